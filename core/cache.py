"""The shared cache on Redis: Django's backend, with one Redis client per connection pool.

Django's ``RedisCache`` makes a new ``redis.Redis`` client for every command. Making one sets up
its table of reply parsers, which costs more than a GET on the loopback; a request makes five or
six commands (the session, the user's roles, the rate limit, the user's stamp and what is kept
under it). A client is safe to share between threads (each command takes a connection from the
pool), so this backend makes it once per pool.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusedClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # two threads may both make one: either will do
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
