"""Deterministic identifiers and times: everything derives from one ``random.Random``.

No ``ObjectId()``, ``uuid4()`` or ``datetime.now()`` here, so a seed reproduces every byte.
Datetimes are naive UTC with millisecond precision (what MongoDB stores).
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from datetime import datetime, timedelta

from bson import ObjectId

# The synthetic deployment's "now": sign-ups, uploads and conversation starts lie before it
# (a long conversation resumed days later may run a couple of weeks past it).
BASE = datetime(2026, 1, 1)
# Users sign up over the two years before BASE.
HISTORY = timedelta(days=730)
# Dates the TTL monitor must not reach while the data is in use (sessions, tokens, temporary
# chats, fresh uploads). Real values are "now + a few days"; a fixed date keeps the seed
# deterministic and the documents alive on a real server.
FAR = datetime(2030, 1, 1)

_EPOCH = datetime(1970, 1, 1)
_NANOID = string.ascii_letters + string.digits + "_-"
_ALNUM = string.ascii_letters + string.digits
_BCRYPT = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits


def iso(at: datetime) -> str:
    """JavaScript's ``Date.toISOString()`` form, e.g. ``2025-03-04T10:11:12.345Z``."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class Ids:
    """ObjectIds, UUIDs, nanoids, hashes and times drawn from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._process = rng.randbytes(5)  # like a driver's per-process random bytes
        self._counter = rng.randrange(1 << 24)

    def oid(self, at: datetime) -> ObjectId:
        """An ObjectId whose timestamp is ``at``; unique thanks to the running counter."""
        self._counter = (self._counter + 1) % (1 << 24)
        seconds = int((at - _EPOCH) // timedelta(seconds=1))
        counter = self._counter.to_bytes(3, "big")
        return ObjectId(seconds.to_bytes(4, "big") + self._process + counter)

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.rng.randbytes(16), version=4))

    def nanoid(self, size: int = 21) -> str:
        return "".join(self.rng.choices(_NANOID, k=size))

    def alnum(self, size: int) -> str:
        return "".join(self.rng.choices(_ALNUM, k=size))

    def hex(self, nbytes: int) -> str:
        return self.rng.randbytes(nbytes).hex()

    def digits(self, size: int) -> str:
        return str(self.rng.randrange(1, 10)) + "".join(self.rng.choices(string.digits, k=size - 1))

    def bcrypt_hash(self) -> str:
        """A bcrypt-shaped string (``$2a$10$`` + 53 chars = 60); not a real hash."""
        return "$2a$10$" + "".join(self.rng.choices(_BCRYPT, k=53))

    def sha256(self, text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    # -- times ---------------------------------------------------------------------------

    def between(self, start: datetime, end: datetime) -> datetime:
        """A millisecond-precise time in [start, end)."""
        span_ms = max(1, int((end - start) / timedelta(milliseconds=1)))
        return start + timedelta(milliseconds=self.rng.randrange(span_ms))

    def after(self, at: datetime, low_s: float, high_s: float) -> datetime:
        """``at`` plus a uniform delay in [low_s, high_s] seconds, millisecond-precise."""
        return at + timedelta(milliseconds=round(self.rng.uniform(low_s, high_s) * 1000))
