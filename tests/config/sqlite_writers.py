"""The two processes of ``make run`` writing to one SQLite file at once, for test_sqlite.py.

Run as ``python -m tests.config.sqlite_writers ROLE`` from the project's folder, with
DATABASE_URL naming a SQLite file and VAR_DIR a scratch folder:

- ``setup`` migrates, and makes a client, a freelancer and DUE milestones whose work was
  submitted long enough ago that their auto-release is due;
- ``worker`` does what the Celery worker does: sweeps the deadlines (releasing those DUE
  milestones) and, in between, adds WORKER_WRITES milestones, each in its own transaction;
- ``web`` is the web process: THREADS threads each open REQUESTS contracts through the API,
  each thread on its own database connection.

``worker`` and ``web`` print ``ready`` once loaded and start together when a line arrives on
their input, so their writes overlap. Each prints one JSON line of what it did: its count of
successful writes and the errors it met.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from datetime import timedelta

import django

DUE = 10
WORKER_WRITES = 80
THREADS = 4
REQUESTS = 20


def _start_together() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def setup() -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from tests import kit

    call_command("migrate", verbosity=0)
    client = kit.UserFactory(username="sqlite-client")
    freelancer = kit.UserFactory(username="sqlite-freelancer")
    contract = kit.ContractFactory(client=client, freelancer=freelancer)
    long_ago = timezone.now() - timedelta(days=30)
    for _ in range(DUE):
        kit.submitted(contract, amount="10.00", now=long_ago)
    return {"contract": contract.pk}


def worker() -> dict:
    from django.db import OperationalError
    from django.utils import timezone

    from contracts import services
    from contracts.models import Contract
    from core import deadlines

    contract = Contract.objects.get(client__username="sqlite-client")
    _start_together()
    done, errors = 0, []
    for index in range(WORKER_WRITES):
        try:
            if index % 5 == 0:
                deadlines.enforce_deadlines(now=timezone.now(), batch_size=5)
            services.milestone_create(
                contract=contract,
                actor=contract.client,
                title=f"worker-{index}",
                amount="1.00",
                now=timezone.now(),
            )
            done += 1
        except OperationalError as error:
            errors.append(repr(error))
    try:
        deadlines.enforce_deadlines(now=timezone.now())
    except OperationalError as error:
        errors.append(repr(error))
    return {"done": done, "errors": errors}


def web() -> dict:
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.models import User

    client = User.objects.get(username="sqlite-client")
    connection.close()
    _start_together()
    done, errors = [], []

    def requests(thread: int) -> None:
        api = APIClient()
        api.force_authenticate(client)
        for index in range(REQUESTS):
            body = {"freelancer": "sqlite-freelancer", "title": f"web-{thread}-{index}"}
            try:
                response = api.post("/api/v1/contracts/", {**body, "currency": "USD"})
            except Exception:  # a request that raised: the test client re-raises it here
                errors.append(traceback.format_exc(limit=1))
            else:
                if response.status_code == 201:
                    done.append(1)
                else:
                    errors.append(f"{response.status_code} {response.content[:200]!r}")

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"done": len(done), "errors": errors}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    role = {"setup": setup, "worker": worker, "web": web}[sys.argv[1]]
    print(json.dumps(role()), flush=True)
