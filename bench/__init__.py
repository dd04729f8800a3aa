"""Benchmarks that print figures (``make bench``); never run as tests.

``bench.sweep`` measures the refund-request expiry sweep on PostgreSQL against pgbench's TPC-B
on the same server, and checks that its cost does not grow with the number of rows not yet due;
``bench.kinds`` measures each sweep kind the same way, on rows built through the services, and
two sweep processes splitting one backlog.
"""
