"""What both auth paths share: the balance fields ``GET /api/balance`` shows and the session's
refresh-token hash."""

from __future__ import annotations

import hashlib

from bson import ObjectId

BALANCE_FIELDS = (
    "tokenCredits",
    "autoRefillEnabled",
    "refillIntervalValue",
    "refillIntervalUnit",
    "lastRefill",
    "refillAmount",
)

REFILL_FIELDS = ("refillIntervalValue", "refillIntervalUnit", "lastRefill", "refillAmount")


def refresh_hash(user_id: str, session_id: ObjectId) -> str:
    # A stand-in for sha256(refresh JWT {id, sessionId}); generated ids make it volatile.
    return hashlib.sha256(f"{user_id}.{session_id}".encode()).hexdigest()
