"""Transactions, the legacy path: direct pymongo spelling out ``api/models/Transaction.js``
and ``spendTokens.js``.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.mongoose import cast_date, oid
from migrator.services.transactions.shared import (
    FIRST_DELAY,
    MAX_RETRIES,
    backoff,
    is_nan,
    spend,
)

TX_FIELDS = model.SCHEMA_FIELDS["transactions"]
CANCEL_RATE = 1.15  # Transaction.js `cancelRate`: an incomplete completion costs 15 % more


def by_user(db: Database, *, user_id: str, start: Any = None, end: Any = None) -> list[dict]:
    """`getTransactions({user[, createdAt: {$gte: start, $lt: end}]})`: `find(filter).lean()`
    with **no sort** in B, so the order is the server's natural order (compare unordered)."""
    query: dict[str, Any] = {"user": oid(user_id, "user")}
    created: dict[str, Any] = {}
    if start is not None:
        created["$gte"] = cast_date(start, "createdAt")
    if end is not None:
        created["$lt"] = cast_date(end, "createdAt")
    if created:
        query["createdAt"] = created
    return list(db.transactions.find(query))


def spend_by_user(db: Database, *, user_id: str) -> list[dict]:
    """One user's spend per token type (§4.5). Aggregations are not cast (§1 #3): the user id
    is converted to an ObjectId here; a hex string would match nothing."""
    pipeline = [
        {"$match": {"user": oid(user_id, "user")}},
        {
            "$group": {
                "_id": {"tokenType": "$tokenType"},
                "tokens": {"$sum": "$rawAmount"},
                "credits": {"$sum": "$tokenValue"},
            }
        },
        {"$sort": {"_id.tokenType": 1}},
    ]
    return list(db.transactions.aggregate(pipeline))


def spend_by_model(db: Database, *, user_id: str) -> list[dict]:
    """One user's spend per model and token type: the §4.5 pipeline `$match {user: ObjectId}` →
    `$group {_id: {model, tokenType}, tokens: Σ rawAmount, credits: Σ tokenValue}`, sorted."""
    pipeline = [
        {"$match": {"user": oid(user_id, "user")}},
        {
            "$group": {
                "_id": {"model": "$model", "tokenType": "$tokenType"},
                "tokens": {"$sum": "$rawAmount"},
                "credits": {"$sum": "$tokenValue"},
            }
        },
        {"$sort": {"_id.model": 1, "_id.tokenType": 1}},
    ]
    return list(db.transactions.aggregate(pipeline))


def balance(db: Database, *, user_id: str) -> Any:
    """The balance check's read (`checkBalanceRecord`): `Balance.findOne({user}).lean()`, its
    `tokenCredits`, 0 without a record. balances.user is not unique (§8): with duplicates,
    findOne returns whichever the server finds first."""
    doc = db.balances.find_one({"user": oid(user_id, "user")})
    return doc.get("tokenCredits") if doc is not None else 0


def _update_balance(
    db: Database, *, user: Any, increment: float, set_values: dict | None = None
) -> dict:
    """`updateBalance`: optimistic read-then-compare-and-set on tokenCredits, never below 0.
    Without a balance document it upserts one — so spending by a user who has none creates a
    balance of 0 (with the schema defaults via $setOnInsert and `__v: 0`, §1 #8)."""
    balances = db.balances
    delay, last_error = FIRST_DELAY, None
    for attempt in range(1, MAX_RETRIES + 1):
        try:
            current = balances.find_one({"user": user})
            credits = current["tokenCredits"] if current is not None else 0
            payload = {"$set": {"tokenCredits": max(0, credits + increment), **(set_values or {})}}
            if current is not None:
                updated = balances.find_one_and_update(
                    {"user": user, "tokenCredits": credits},
                    payload,
                    return_document=ReturnDocument.AFTER,
                )
                if updated is not None:
                    return updated
                last_error = RuntimeError(f"Concurrency conflict for user {user} ({attempt})")
            else:
                now = utcnow()
                defaults = model.materialize(model.BALANCE_DEFAULTS, now)
                on_insert = {k: v for k, v in defaults.items() if k not in payload["$set"]}
                updated = balances.find_one_and_update(
                    {"user": user},
                    {**payload, "$setOnInsert": {**on_insert, "__v": 0}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                if updated is not None:
                    return updated
                last_error = RuntimeError(f"Upsert race suspected for user {user} ({attempt})")
        except Exception as exc:  # B logs every failure (E11000 included) and retries
            last_error = exc
        delay = backoff(attempt, delay)
    raise last_error or RuntimeError(f"Failed to update balance for user {user}")


def _tx_document(data: dict, now: datetime) -> dict:
    """`new Transaction(txData)` + `calculateTokenValue`: strict (endpointTokenConfig and other
    non-schema keys are not persisted, §3.8), `user` cast to ObjectId, timestamps, `__v`."""
    doc: dict[str, Any] = {"_id": ObjectId()}
    doc.update({k: v for k, v in data.items() if k in TX_FIELDS and k != "_id"})
    doc["user"] = oid(doc.get("user"), "user")
    rate = abs(model.multiplier(doc.get("model"), doc.get("tokenType")))
    value = doc.get("rawAmount") * rate
    if doc.get("context") == "incomplete" and doc.get("tokenType") == "completion":
        # ceil rounds towards +inf: -5744.25 -> -5744
        value = math.ceil(value * CANCEL_RATE)
        rate = rate * CANCEL_RATE
    doc.update(rate=rate, tokenValue=value)
    # timestamps on a new document: createdAt unless given, updatedAt = createdAt
    doc.setdefault("createdAt", now)
    doc["updatedAt"] = doc["createdAt"]
    doc["__v"] = 0
    return doc


def create_transaction(db: Database, *, data: dict) -> dict | None:
    """`createTransaction`: always inserted (unless `transactions.enabled === false` or a NaN
    amount); the balance moves by tokenValue only when `balance.enabled`. Returns B's
    `{rate, user, balance, [tokenType]: tokenValue}`, or None where B returns undefined."""
    tx_data = dict(data)
    balance_config = tx_data.pop("balance", None) or {}
    transactions_config = tx_data.pop("transactions", None) or {}
    if tx_data.get("rawAmount") is not None and is_nan(tx_data["rawAmount"]):
        return None
    if transactions_config.get("enabled") is False:
        return None
    doc = _tx_document(tx_data, utcnow())
    db.transactions.insert_one(doc)
    if not balance_config.get("enabled"):
        return None
    increment = doc["tokenValue"]
    updated = _update_balance(db, user=doc["user"], increment=increment)
    return {
        "rate": doc["rate"],
        "user": str(doc["user"]),
        "balance": updated["tokenCredits"],
        doc["tokenType"]: increment,
    }


def spend_tokens(
    db: Database,
    *,
    tx_data: dict,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> dict:
    """`spendTokens(txData, {promptTokens, completionTokens})`: a prompt then a completion
    transaction for each defined amount (0 stays 0), each moving the balance. B returns
    nothing and swallows errors; the two createTransaction results are returned here."""
    return spend(
        lambda d: create_transaction(db, data=d), tx_data, prompt_tokens, completion_tokens
    )
