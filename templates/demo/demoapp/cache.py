"""Redis, from REDIS_URL."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from demoapp import setting


def connect() -> redis.Redis:
    """A client that returns str and fails fast (no retries) when Redis is down."""
    return redis.Redis.from_url(
        setting("REDIS_URL"),
        decode_responses=True,
        socket_connect_timeout=5,
        retry=Retry(NoBackoff(), 0),
    )
