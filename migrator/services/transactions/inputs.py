"""Transactions' inputs: the arguments each operation is tried with, drawn from the source
database, and the documents a write input may touch (its footprint).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from pymongo.database import Database

from migrator.services.base import UNKNOWN_ID, Args, Sampler, footprint_oid
from migrator.services.js import iso


def _spender_ids(s: Sampler) -> list[str]:
    """A heavy spender first (more rows than a 100-row cap: the seed's planted one, else the
    user of a random transaction), then users at random.

    One heavy spender, not many: a random transaction's user is drawn in proportion to their
    rows, so a sample of them follows the data's heaviest users and its answers (and time)
    grow with the data, where users at random stay as heavy as the typical user."""
    heavy = s.ref_values("many_transactions", "user")[:1] or [
        str(t["user"]) for t in s.pick("transactions", fields=("user",), n=1)
    ]
    users = [str(u["_id"]) for u in s.pick("users")]
    return list(dict.fromkeys(heavy + users))


def user_args(s: Sampler) -> list[Args]:
    ids = _spender_ids(s)
    out: list[Args] = [{"user_id": u} for u in ids]
    if ids:  # ObjectId hex is case-insensitive
        out.append({"user_id": ids[0].upper()})
    return [*out, {"user_id": UNKNOWN_ID}, {"user_id": "not-an-object-id"}]


def range_args(s: Sampler) -> list[Args]:
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
            out.append({"user_id": user_id, "start": iso(middle)})  # a JSON client's string
            out.append({"user_id": user_id, "start": dates[0], "end": middle})
            out.append({"user_id": user_id, "end": iso(dates[0])})  # $lt: nothing before
    if spenders:  # JS cannot parse it: Invalid Date, a CastError in Mongoose
        out.append({"user_id": spenders[0], "start": "yesterday-ish"})
    return [
        *out,
        {"user_id": UNKNOWN_ID, "start": "2024-01-01T00:00:00.000Z"},
        {"user_id": "not-an-object-id"},
    ]


def balance_args(s: Sampler) -> list[Args]:
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


def new_transactions(s: Sampler) -> list[Args]:
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


def spend_args(s: Sampler) -> list[Args]:
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


def tx_footprint(db: Database, args: Args) -> dict[str, dict]:
    user = footprint_oid((args.get("data") or args.get("tx_data") or {}).get("user"))
    # Both writes only insert transactions and update the balance: the user's existing
    # transactions cannot change, so copying them (thousands for heavy users) buys nothing.
    return {"transactions": {"_id": {"$in": []}}, "balances": {"user": user}}
