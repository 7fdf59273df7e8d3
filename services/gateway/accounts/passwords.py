"""Password hashing and the password policy.

Hashes are bcrypt through libpass's ``bcrypt_sha256``: the password is first
HMAC-SHA256'd, so every byte of a long password counts (plain bcrypt reads
only the first 72, and bcrypt 5 refuses longer input outright). Hashing takes
a few hundred milliseconds by design, so it runs in threads of its own, one
per core (bcrypt releases the GIL), never on the event loop: more threads
would not hash faster, only queue work where the event loop competes for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from passlib.context import CryptContext
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from shared.errors import OjimeError

T = TypeVar("T")

MIN_LENGTH = 10
MAX_LENGTH = 1024
# zxcvbn's list is ordered by frequency; the head is what attackers try first.
_COMMON_PASSWORDS_CHECKED = 10_000


class WeakPassword(OjimeError):
    status_code = 422
    code = "weak_password"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:_COMMON_PASSWORDS_CHECKED])


def check_password_policy(password: str, *, email: str = "") -> None:
    """Refuse a password that is short, huge, common, or the email itself."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"A password may have at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if folded in _common_passwords() or folded.strip("0123456789!") in (
        _common_passwords()
    ):
        raise WeakPassword("This password is among the most common ones.")
    if email and folded == email.casefold():
        raise WeakPassword("A password must not be the email address.")


class PasswordHasher:
    """Hashes and verifies passwords at a configurable bcrypt cost."""

    def __init__(self, rounds: int = 12, threads: int | None = None) -> None:
        self.context = CryptContext(
            schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds
        )
        self._threads = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1,
            thread_name_prefix="password-hashing",
        )
        # Verifying against this costs what a real check costs, so an unknown
        # email takes as long to refuse as a wrong password.
        self._decoy = self.context.hash("decoy password for unknown accounts")

    async def _off_loop(self, work: Callable[..., T], *args: str) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, work, *args)

    async def hash(self, password: str) -> str:
        return await self._off_loop(self.context.hash, password)

    async def verify(
        self, password: str, stored: str | None
    ) -> tuple[bool, str | None]:
        """Whether ``password`` matches, and a new hash when the cost rose."""
        if stored is None:
            await self._off_loop(self.context.verify, password, self._decoy)
            return False, None
        return await self._off_loop(self.context.verify_and_update, password, stored)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
