"""Throttling of failed logins, per account and per client address.

Counts live in Redis, so every gateway process sees the same ones. An outage
of Redis refuses logins (503) rather than letting guesses through unchecked.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import OjimeError, ServiceUnavailable

_PREFIX = "ojime:gateway:login-failures"


class TooManyLoginAttempts(OjimeError):
    status_code = 429
    code = "too_many_attempts"
    message = "Too many failed sign-in attempts. Try again later."


def _account_key(email: str) -> str:
    # Hashed, so that Redis holds no email address.
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()
    return f"{_PREFIX}:account:{digest}"


def _address_key(address: str) -> str:
    return f"{_PREFIX}:address:{address}"


class LoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        per_account: int,
        per_address: int,
        window_seconds: int,
    ) -> None:
        self.redis = redis
        self.limits = {"account": per_account, "address": per_address}
        self.window_seconds = window_seconds

    async def check(self, email: str, address: str) -> None:
        """Refuse with 429 while either count is at its limit."""
        keys = {"account": _account_key(email), "address": _address_key(address)}
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys.values():
                    pipe.get(key)
                    pipe.ttl(key)
                answers = await pipe.execute()
        except RedisError as exc:
            raise ServiceUnavailable() from exc
        for index, kind in enumerate(keys):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= self.limits[kind]:
                retry_after = str(max(int(ttl), 1))
                raise TooManyLoginAttempts(headers={"Retry-After": retry_after})

    async def record_failure(self, email: str, address: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for key in (_account_key(email), _address_key(address)):
                    pipe.incr(key)
                    pipe.expire(key, self.window_seconds, nx=True)
                await pipe.execute()
        except RedisError as exc:
            raise ServiceUnavailable() from exc

    async def reset(self, email: str) -> None:
        """Forget an account's failures after it signs in."""
        try:
            await self.redis.delete(_account_key(email))
        except RedisError as exc:
            raise ServiceUnavailable() from exc
