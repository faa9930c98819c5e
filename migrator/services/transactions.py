"""Transactions and balance: spend records, spend totals, the balance (docs/librechat.md §4.5, B).

Legacy functions are direct pymongo calls spelling out ``api/models/Transaction.js`` and
``spendTokens.js``; gateway functions call the Transaction and Balance repositories only.
LibreChat has no spend aggregation; ``spend_by_user``/``spend_by_model`` are the ones §4.5 asks
the port to write.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.base import UNKNOWN_ID, Args, Operation, Sampler, oid

TX_FIELDS = model.SCHEMA_FIELDS["transactions"]
CANCEL_RATE = 1.15  # Transaction.js `cancelRate`: an incomplete completion costs 15 % more
# updateBalance's optimistic loop: 10 tries, 50 ms doubling to 2 s, plus up to 50 % jitter.
MAX_RETRIES = 10
FIRST_DELAY = 0.05
MAX_DELAY = 2.0


def _now() -> datetime:
    return utcnow()


def _js_date(value: Any, path: str = "createdAt") -> Any:
    """Mongoose's Date cast, `new Date(str)` (§1 #4): ISO strings parse (a trailing Z or an
    offset is converted to naive UTC); a string JS cannot parse is an Invalid Date, which
    Mongoose rejects with a CastError."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise model.CastError(path, value, "date") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


# --- reads ----------------------------------------------------------------------------------


def by_user(db: Database, *, user_id: str, start: Any = None, end: Any = None) -> list[dict]:
    """`getTransactions({user[, createdAt: {$gte: start, $lt: end}]})`: `find(filter).lean()`
    with **no sort** in B, so the order is the server's natural order (compare unordered)."""
    query: dict[str, Any] = {"user": oid(user_id, "user")}
    created: dict[str, Any] = {}
    if start is not None:
        created["$gte"] = _js_date(start)
    if end is not None:
        created["$lt"] = _js_date(end)
    if created:
        query["createdAt"] = created
    return list(db.transactions.find(query))


def gw_by_user(gw: DbGateway, *, user_id: str, start: Any = None, end: Any = None) -> list[dict]:
    return gw.get_repository("Transaction").find_by_user(user_id, start, end)


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


def gw_spend_by_user(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("Transaction").get_user_summary(user_id)


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


def gw_spend_by_model(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("Transaction").get_model_usage_stats(user_id)


def balance(db: Database, *, user_id: str) -> Any:
    """The balance check's read (`checkBalanceRecord`): `Balance.findOne({user}).lean()`, its
    `tokenCredits`, 0 without a record. balances.user is not unique (§8): with duplicates,
    findOne returns whichever the server finds first."""
    doc = db.balances.find_one({"user": oid(user_id, "user")})
    return doc.get("tokenCredits") if doc is not None else 0


def gw_balance(gw: DbGateway, *, user_id: str) -> Any:
    doc = gw.get_repository("Balance").find_by_user(user_id)
    return doc.get("tokenCredits") if doc is not None else 0


# --- writes ---------------------------------------------------------------------------------


def _backoff(attempt: int, delay: float) -> float:
    if attempt < MAX_RETRIES:
        time.sleep(delay + random.random() * delay * 0.5)
        return min(delay * 2, MAX_DELAY)
    return delay


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
                now = _now()
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
        delay = _backoff(attempt, delay)
    raise last_error or RuntimeError(f"Failed to update balance for user {user}")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


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
    if tx_data.get("rawAmount") is not None and _is_nan(tx_data["rawAmount"]):
        return None
    if transactions_config.get("enabled") is False:
        return None
    doc = _tx_document(tx_data, _now())
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


def _gw_update_balance(gw: DbGateway, user: Any, increment: float) -> dict:
    repo = gw.get_repository("Balance")
    delay, last_error = FIRST_DELAY, None
    for attempt in range(1, MAX_RETRIES + 1):
        try:
            current = repo.find_by_user(user)
            credits = current["tokenCredits"] if current is not None else 0
            new_credits = max(0, credits + increment)
            if current is not None:
                updated = repo.find_one_and_update(
                    {"user": user, "tokenCredits": credits}, {"$set": {"tokenCredits": new_credits}}
                )
            else:
                updated = repo.find_one_and_update(
                    {"user": user}, {"$set": {"tokenCredits": new_credits}}, upsert=True
                )
            if updated is not None:
                return updated
            last_error = RuntimeError(f"balance update conflict for user {user} ({attempt})")
        except Exception as exc:
            last_error = exc
        delay = _backoff(attempt, delay)
    raise last_error or RuntimeError(f"Failed to update balance for user {user}")


def gw_create_transaction(gw: DbGateway, *, data: dict) -> dict | None:
    tx_data = {k: v for k, v in data.items() if k not in ("balance", "transactions")}
    balance_config = data.get("balance") or {}
    if _is_nan(tx_data.get("rawAmount")):
        return None
    if (data.get("transactions") or {}).get("enabled") is False:
        return None
    tx = gw.get_repository("Transaction").create_transaction(tx_data)
    if not balance_config.get("enabled"):
        return None
    updated = _gw_update_balance(gw, tx["user"], tx["tokenValue"])
    return {
        "rate": tx["rate"],
        "user": str(tx["user"]),
        "balance": updated["tokenCredits"],
        tx["tokenType"]: tx["tokenValue"],
    }


def _spent(tokens: int) -> int:
    # spendTokens: `promptTokens === 0 ? 0 : -Math.max(promptTokens, 0)`
    return 0 if tokens == 0 else -max(tokens, 0)


def _spend(
    create: Callable[[dict], dict | None],
    tx_data: dict,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> dict:
    prompt = completion = None
    try:
        if prompt_tokens is not None:
            prompt = create({**tx_data, "tokenType": "prompt", "rawAmount": _spent(prompt_tokens)})
        if completion_tokens is not None:
            completion = create(
                {**tx_data, "tokenType": "completion", "rawAmount": _spent(completion_tokens)}
            )
    except Exception:  # spendTokens logs every error and swallows it
        pass
    return {"prompt": prompt, "completion": completion}


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
    return _spend(
        lambda d: create_transaction(db, data=d), tx_data, prompt_tokens, completion_tokens
    )


def gw_spend_tokens(
    gw: DbGateway,
    *,
    tx_data: dict,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> dict:
    return _spend(
        lambda d: gw_create_transaction(gw, data=d), tx_data, prompt_tokens, completion_tokens
    )


# --- samplers -------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


def _spender_ids(s: Sampler) -> list[str]:
    """Users with transactions first (so reads return rows), then any users."""
    spenders = [str(t["user"]) for t in s.pick("transactions", fields=("user",))]
    users = [str(u["_id"]) for u in s.pick("users")]
    return list(dict.fromkeys(spenders[: max(1, len(spenders) // 2)] + users))


def _user_args(s: Sampler) -> list[Args]:
    ids = _spender_ids(s)
    out: list[Args] = [{"user_id": u} for u in ids]
    if ids:  # ObjectId hex is case-insensitive
        out.append({"user_id": ids[0].upper()})
    return [*out, {"user_id": UNKNOWN_ID}, {"user_id": "not-an-object-id"}]


def _range_args(s: Sampler) -> list[Args]:
    spenders = _spender_ids(s)
    out: list[Args] = []
    for user_id in spenders[:4]:
        dates = sorted(
            t["createdAt"]
            for t in s.db.transactions.find({"user": ObjectId(user_id)}, {"createdAt": 1}).limit(
                500
            )
            if isinstance(t.get("createdAt"), datetime)
        )
        out.append({"user_id": user_id})
        if len(dates) >= 2:
            middle = dates[len(dates) // 2]
            out.append({"user_id": user_id, "start": _iso(middle)})  # a JSON client's string
            out.append({"user_id": user_id, "start": dates[0], "end": middle})
            out.append({"user_id": user_id, "end": _iso(dates[0])})  # $lt: nothing before
    if spenders:  # JS cannot parse it: Invalid Date, a CastError in Mongoose
        out.append({"user_id": spenders[0], "start": "yesterday-ish"})
    return [
        *out,
        {"user_id": UNKNOWN_ID, "start": "2024-01-01T00:00:00.000Z"},
        {"user_id": "not-an-object-id"},
    ]


def _balance_args(s: Sampler) -> list[Args]:
    planted = s.ref_values("duplicate_balances", "user")
    with_balance = [str(b["user"]) for b in s.pick("balances", fields=("user",))]
    users = [str(u["_id"]) for u in s.pick("users")]
    ids = list(dict.fromkeys(planted + with_balance + users))
    return [{"user_id": u} for u in ids] + [
        {"user_id": UNKNOWN_ID},
        {"user_id": "not-an-object-id"},
    ]


def _tx_users(s: Sampler) -> tuple[list[str], list[str]]:
    """(users with a balance document, users without one)."""
    funded = list(dict.fromkeys(str(b["user"]) for b in s.pick("balances", fields=("user",))))
    users = [u["_id"] for u in s.pick("users", n=50)]
    held = set(s.db.balances.distinct("user", {"user": {"$in": users}}))
    return funded, [str(u) for u in users if u not in held]


def _new_transactions(s: Sampler) -> list[Args]:
    funded, unfunded = _tx_users(s)
    on = {"enabled": True}
    conversation = _conversation_of(s)
    out: list[Args] = []
    shapes = [
        ("gpt-4o", "message", "prompt", -1_234),
        ("gpt-4.1", "message", "prompt", -(10**9)),  # more than any balance: clamped at 0
        ("claude-sonnet-4-20250514", "incomplete", "completion", -333),  # x1.15, ceil
        ("gpt-4o-mini", "title", "completion", -17),
        ("my-local-model", "message", "prompt", -500),  # unknown model: default rate 6
    ]
    for i, user_id in enumerate(funded[: len(shapes)]):
        model_name, context, token_type, amount = shapes[i]
        data = {
            "user": user_id,
            "conversationId": conversation,
            "model": model_name,
            "context": context,
            "tokenType": token_type,
            "rawAmount": amount,
            "endpointTokenConfig": None,  # set in code, not persisted (§3.8)
            "balance": on,
        }
        out.append({"data": data})
    if funded:
        user_id = funded[0]
        base = {"user": user_id, "conversationId": conversation, "balance": on}
        out += [
            # add-balance script: credits without a model, rate 1
            {"data": {**base, "tokenType": "credits", "context": "admin", "rawAmount": 5_000}},
            {"data": {**base, "model": "gpt-4o", "tokenType": "prompt", "rawAmount": -50,
                      "context": "message", "balance": {"enabled": False}}},
            {"data": {**base, "model": "gpt-4o", "tokenType": "prompt", "rawAmount": -50,
                      "context": "message", "transactions": {"enabled": False}}},
            {"data": {**base, "model": "gpt-4o", "tokenType": "prompt",
                      "rawAmount": float("nan"), "context": "message"}},
        ]  # fmt: skip
    for user_id in unfunded[:1]:  # no balance document: the upsert creates one at 0
        out.append(
            {
                "data": {
                    "user": user_id,
                    "model": "gpt-5",
                    "tokenType": "completion",
                    "context": "message",
                    "rawAmount": -90,
                    "balance": on,
                }
            }
        )
    out.append(
        {
            "data": {
                "user": "not-an-object-id",
                "model": "gpt-4o",
                "tokenType": "prompt",
                "rawAmount": -1,
                "balance": on,
            }
        }
    )
    return out


def _conversation_of(s: Sampler) -> str | None:
    found = s.pick("transactions", fields=("conversationId",), n=1)
    return found[0].get("conversationId") if found else None


def _spend_args(s: Sampler) -> list[Args]:
    funded, unfunded = _tx_users(s)
    conversation = _conversation_of(s)
    usages = [(1_500, 300), (0, 42), (None, 120), (800, None), (12_000, 2_000_000)]
    models = ["gpt-4o", "claude-3-7-sonnet-20250219", "gemini-2.5-pro", "o3-mini", "gpt-4.1"]
    out: list[Args] = []
    for i, user_id in enumerate([*funded[:4], *unfunded[:1]]):
        prompt, completion = usages[i % len(usages)]
        tx_data = {
            "user": user_id,
            "conversationId": conversation,
            "model": models[i % len(models)],
            "context": "title" if i == 2 else "message",
            "balance": {"enabled": True},
        }
        out.append({"tx_data": tx_data, "prompt_tokens": prompt, "completion_tokens": completion})
    out.append(  # B swallows the cast error: nothing written, nothing returned
        {
            "tx_data": {"user": "not-an-object-id", "model": "gpt-4o", "context": "message"},
            "prompt_tokens": 10,
            "completion_tokens": 10,
        }
    )
    return out


# --- footprints and rules -------------------------------------------------------------------


def _as_oid(value: Any) -> Any:
    try:
        return ObjectId(value) if isinstance(value, str) else value
    except InvalidId:
        return value


def _tx_footprint(db: Database, args: Args) -> dict[str, dict]:
    user = _as_oid((args.get("data") or args.get("tx_data") or {}).get("user"))
    # Both writes only insert transactions and update the balance: the user's existing
    # transactions cannot change, so copying them (thousands for heavy users) buys nothing.
    return {"transactions": {"_id": {"$in": []}}, "balances": {"user": user}}


TX_READ_RULES = Rules()
# getTransactions has no sort: the rows are a set, matched by _id.
TX_BY_USER_RULES = Rules(unordered={"": "_id"})
# Σ of doubles: a server may add in another order (the last bits can differ).
TX_SPEND_RULES = Rules(tolerance={"*.credits": 1e-6})
TX_WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "lastRefill"))


OPERATIONS = [
    Operation(
        "transactions.by_user", "read", by_user, gw_by_user, _range_args, rules=TX_BY_USER_RULES
    ),
    Operation(
        "transactions.spend_by_user",
        "read",
        spend_by_user,
        gw_spend_by_user,
        _user_args,
        rules=TX_SPEND_RULES,
    ),
    Operation(
        "transactions.spend_by_model",
        "read",
        spend_by_model,
        gw_spend_by_model,
        _user_args,
        rules=TX_SPEND_RULES,
    ),
    Operation(
        "transactions.balance",
        "read",
        balance,
        gw_balance,
        _balance_args,
        rules=TX_READ_RULES,
        hazards={"duplicate_balances": "user"},
    ),
    Operation(
        "transactions.create_transaction",
        "write",
        create_transaction,
        gw_create_transaction,
        _new_transactions,
        rules=TX_WRITE_RULES,
        footprint=_tx_footprint,
    ),
    Operation(
        "transactions.spend_tokens",
        "write",
        spend_tokens,
        gw_spend_tokens,
        _spend_args,
        rules=TX_WRITE_RULES,
        footprint=_tx_footprint,
    ),
]
