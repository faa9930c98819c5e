"""Auth: users, sessions, tokens and the balance read (docs/librechat.md §4.1, column B).

Legacy functions are direct pymongo calls spelling out what Mongoose does; gateway functions
call repositories only.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.base import UNKNOWN_ID, Args, Operation, Sampler, oid
from migrator.services.mongoose import cast_filter

USER_PROJECTION = model.USER_AUTH_PROJECTION  # password, totpSecret, backupCodes, __v hidden
BALANCE_FIELDS = (
    "tokenCredits",
    "autoRefillEnabled",
    "refillIntervalValue",
    "refillIntervalUnit",
    "lastRefill",
    "refillAmount",
)
REFILL_FIELDS = ("refillIntervalValue", "refillIntervalUnit", "lastRefill", "refillAmount")


# --- reads ----------------------------------------------------------------------------------


def get_user_by_id(db: Database, *, user_id: str) -> dict | None:
    """JWT strategy: the user of every authenticated request."""
    return db.users.find_one({"_id": oid(user_id)}, USER_PROJECTION)


def gw_get_user_by_id(gw: DbGateway, *, user_id: str) -> dict | None:
    return gw.get_repository("User").find_by_id(user_id, {"__v": 0})


def find_user_by_email(db: Database, *, email: str) -> dict | None:
    """Local login / register: `findUser({email: input.trim()})`, lowercased by the schema."""
    return db.users.find_one({"email": email.strip().lower()}, model.USER_DEFAULT_PROJECTION)


def gw_find_user_by_email(gw: DbGateway, *, email: str) -> dict | None:
    return gw.get_repository("User").find_by_email(email)


def find_user_for_openid(db: Database, *, openid_id: str, email: str) -> dict | None:
    """OpenID login (B): by `openidId`, then by email."""
    users = db.users
    found = users.find_one({"openidId": openid_id}, model.USER_DEFAULT_PROJECTION)
    if found is None:
        found = users.find_one({"email": email.strip().lower()}, model.USER_DEFAULT_PROJECTION)
    return found


def gw_find_user_for_openid(gw: DbGateway, *, openid_id: str, email: str) -> dict | None:
    repo = gw.get_repository("User")
    return repo.find_by_provider_id("openid", openid_id) or repo.find_by_email(email)


def count_users(db: Database) -> int:
    """Register: the first user becomes ADMIN (`countDocuments({})`)."""
    return db.users.count_documents({})


def gw_count_users(gw: DbGateway) -> int:
    return gw.get_repository("User").count({})


def find_session(db: Database, *, refresh_token_hash: str, user_id: str, now: datetime) -> Any:
    """Refresh: the live session for this refresh-token hash and user."""
    return db.sessions.find_one(
        {
            "refreshTokenHash": refresh_token_hash,
            "user": oid(user_id, "user"),
            "expiration": {"$gt": now},
        }
    )


def gw_find_session(gw: DbGateway, *, refresh_token_hash: str, user_id: str, now: datetime) -> Any:
    return gw.get_repository("Session").find_session(refresh_token_hash, user_id, now)


def count_active_sessions(db: Database, *, user_id: str, now: datetime) -> int:
    return db.sessions.count_documents({"user": oid(user_id, "user"), "expiration": {"$gt": now}})


def gw_count_active_sessions(gw: DbGateway, *, user_id: str, now: datetime) -> int:
    return gw.get_repository("Session").count_active_sessions(user_id, now)


def find_token(db: Database, **conditions: Any) -> dict | None:
    """data-schemas `findToken` (B): `Token.findOne({$and: conditions}).lean()`, a condition per
    truthy key of `model.TOKEN_QUERY_KEYS`. With none, Mongoose's cast deletes the empty `$and`
    (mongoose lib/cast.js lines 87-90), so LibreChat gets the first token of `findOne({})`."""
    parts = [{k: conditions[k]} for k in model.TOKEN_QUERY_KEYS if conditions.get(k)]
    return db.tokens.find_one(cast_filter("tokens", {"$and": parts}))


def gw_find_token(gw: DbGateway, **conditions: Any) -> dict | None:
    return gw.get_repository("Token").find_token(**conditions)


def get_balance(db: Database, *, user_id: str) -> dict | None:
    """`GET /api/balance`: refill fields are dropped when auto-refill is off; None is a 404."""
    projection = {**dict.fromkeys(BALANCE_FIELDS, 1), "_id": 0}
    doc = db.balances.find_one({"user": oid(user_id, "user")}, projection)
    if doc is not None and not doc.get("autoRefillEnabled"):
        for key in REFILL_FIELDS:
            doc.pop(key, None)
    return doc


def gw_get_balance(gw: DbGateway, *, user_id: str) -> dict | None:
    doc = gw.get_repository("Balance").find_by_user(
        user_id, {**dict.fromkeys(BALANCE_FIELDS, 1), "_id": 0}
    )
    if doc is None or doc.get("autoRefillEnabled"):
        return doc
    return {k: v for k, v in doc.items() if k not in REFILL_FIELDS}


# --- writes ---------------------------------------------------------------------------------


def _now() -> datetime:
    return utcnow()


def create_user(db: Database, *, data: dict, start_balance: int | None = None) -> dict:
    """Register/social sign-up: `createUser` (save with defaults) + the start balance upsert."""
    now = _now()
    doc = model.materialize(model.USER_DEFAULTS, now)
    for key, value in data.items():
        if key in model.SCHEMA_FIELDS["users"]:
            doc[key] = (
                value.lower() if key in ("email", "username") and isinstance(value, str) else value
            )
    doc.update({"_id": ObjectId(), "createdAt": now, "updatedAt": now, "__v": 0})
    db.users.insert_one(doc)
    if start_balance:
        db.balances.find_one_and_update(
            {"user": doc["_id"]},
            {
                "$inc": {"tokenCredits": start_balance},
                "$setOnInsert": {
                    k: v
                    for k, v in model.materialize(model.BALANCE_DEFAULTS, now).items()
                    if k != "tokenCredits"
                }
                | {"__v": 0},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    return {k: v for k, v in doc.items() if k not in model.HIDDEN_FIELDS["users"]}


def gw_create_user(gw: DbGateway, *, data: dict, start_balance: int | None = None) -> dict:
    user = gw.get_repository("User").create(data)
    if start_balance:
        gw.get_repository("Balance").find_one_and_update(
            {"user": user["_id"]}, {"$inc": {"tokenCredits": start_balance}}, upsert=True
        )
    return {k: v for k, v in user.items() if k not in model.HIDDEN_FIELDS["users"]}


def update_user(db: Database, *, user_id: str, data: dict) -> dict | None:
    """`updateUser`: $set the data, unset the TTL, bump updatedAt; returns the new document."""
    allowed = {
        k: v
        for k, v in data.items()
        if k in model.SCHEMA_FIELDS["users"] and k not in ("_id", "createdAt")
    }
    return db.users.find_one_and_update(
        {"_id": oid(user_id)},
        {"$set": {**allowed, "updatedAt": _now()}, "$unset": {"expiresAt": ""}},
        projection=model.USER_DEFAULT_PROJECTION,
        return_document=ReturnDocument.AFTER,
    )


def gw_update_user(gw: DbGateway, *, user_id: str, data: dict) -> dict | None:
    return gw.get_repository("User").find_one_and_update(
        {"_id": user_id}, {"$set": data, "$unset": {"expiresAt": ""}}
    )


def _refresh_hash(user_id: str, session_id: ObjectId) -> str:
    # A stand-in for sha256(refresh JWT {id, sessionId}); generated ids make it volatile.
    return hashlib.sha256(f"{user_id}.{session_id}".encode()).hexdigest()


def create_session(db: Database, *, user_id: str) -> dict:
    """Login `setAuthTokens`: one insert with expiration now + 7 days and the token hash."""
    session_id = ObjectId()
    doc = {
        "_id": session_id,
        "user": oid(user_id, "user"),
        "expiration": _now() + timedelta(days=7),
        "refreshTokenHash": _refresh_hash(user_id, session_id),
        "__v": 0,
    }
    db.sessions.insert_one(doc)
    return doc


def gw_create_session(gw: DbGateway, *, user_id: str) -> dict:
    session_id = ObjectId()
    return gw.get_repository("Session").create_session(
        user_id, _refresh_hash(user_id, session_id), session_id=session_id
    )


def refresh_session(
    db: Database, *, session_id: str, refresh_token_hash: str, now: datetime
) -> dict | None:
    """Refresh: `findOne({_id, expiration > now})` then save the new hash (no sliding expiry)."""
    sessions = db.sessions
    found = sessions.find_one({"_id": oid(session_id), "expiration": {"$gt": now}})
    if found is None:
        return None
    sessions.update_one({"_id": found["_id"]}, {"$set": {"refreshTokenHash": refresh_token_hash}})
    return {**found, "refreshTokenHash": refresh_token_hash}


def gw_refresh_session(
    gw: DbGateway, *, session_id: str, refresh_token_hash: str, now: datetime
) -> dict | None:
    repo = gw.get_repository("Session")
    found = repo.find_one({"_id": session_id, "expiration": {"$gt": now}})
    if found is None:
        return None
    repo.update_one({"_id": found["_id"]}, {"refreshTokenHash": refresh_token_hash})
    return {**found, "refreshTokenHash": refresh_token_hash}


def delete_session(db: Database, *, refresh_token_hash: str) -> int:
    """Logout: `deleteOne({refreshTokenHash})`."""
    return db.sessions.delete_one({"refreshTokenHash": refresh_token_hash}).deleted_count


def gw_delete_session(gw: DbGateway, *, refresh_token_hash: str) -> int:
    return gw.get_repository("Session").delete_session({"refreshTokenHash": refresh_token_hash})


def delete_other_sessions(db: Database, *, user_id: str, session_id: str) -> int:
    """`deleteMany({user, _id: {$ne: current}})`: log out everywhere else."""
    return db.sessions.delete_many(
        {"user": oid(user_id, "user"), "_id": {"$ne": oid(session_id)}}
    ).deleted_count


def gw_delete_other_sessions(gw: DbGateway, *, user_id: str, session_id: str) -> int:
    return gw.get_repository("Session").delete_all_user_sessions(user_id, session_id)


# --- samplers -------------------------------------------------------------------------------


def _user_ids(s: Sampler) -> list[Args]:
    planted = s.ref_values("users_with_ttl", "user") + s.ref_values("mixed_case_email", "user")
    users = [*planted, *(str(u["_id"]) for u in s.pick("users"))]
    return [{"user_id": u} for u in dict.fromkeys(users)] + [
        {"user_id": UNKNOWN_ID},
        {"user_id": "not-an-object-id"},
    ]


def _emails(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("email",))
    emails = [*s.ref_values("mixed_case_email", "email"), *(u.get("email") for u in users)]
    out = [{"email": e} for e in dict.fromkeys(emails) if e]
    if out:  # adversarial: login forms send mixed case and stray spaces
        out.append({"email": f"  {out[0]['email'].upper()} "})
    return [*out, {"email": ""}, {"email": "nobody@example.invalid"}]


def _openid(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("email", "openidId"))
    out = [
        {"openid_id": u.get("openidId") or "unknown-sub", "email": u.get("email", "")}
        for u in users
    ]
    return [*out, {"openid_id": "unknown-sub", "email": "nobody@example.invalid"}]


def _sessions(s: Sampler) -> list[Args]:
    found = [
        *s.hazard_refs("expired_sessions"),
        *s.pick("sessions", fields=("user", "refreshTokenHash")),
    ]
    out = [
        {"refresh_token_hash": x["refreshTokenHash"], "user_id": str(x["user"]), "now": s.now}
        for x in found
    ]
    if found:  # the right hash with another user must not match
        out.append(
            {
                "refresh_token_hash": found[0]["refreshTokenHash"],
                "user_id": UNKNOWN_ID,
                "now": s.now,
            }
        )
    return [*out, {"refresh_token_hash": "0" * 64, "user_id": UNKNOWN_ID, "now": s.now}]


def _session_users(s: Sampler) -> list[Args]:
    planted = [{"user_id": u} for u in s.ref_values("expired_sessions", "user")]
    users = [*planted, *(a for a in _user_ids(s) if a["user_id"] != "not-an-object-id")]
    return [{**a, "now": s.now} for a in users]


def _tokens(s: Sampler) -> list[Args]:
    found = s.pick("tokens", fields=("userId", "type", "identifier", "email", "token"))
    out: list[Args] = [
        {"userId": r["user"], "token": r["token"]} for r in s.hazard_refs("tokens_without_type")
    ]
    for t in found:
        args: Args = {"userId": str(t["userId"])}
        if t.get("type"):
            args["type"] = t["type"]
        if t.get("identifier"):
            args["identifier"] = t["identifier"]
        if not t.get("type"):
            args["token"] = t.get("token")
        out.append(args)
    return [*out, {"userId": UNKNOWN_ID, "type": "oauth"}, {}]


AUTH_READ_RULES = Rules()
WRITE_RULES = Rules(
    volatile=(
        "_id",
        "*._id",
        "user._id",
        "createdAt",
        "updatedAt",
        "expiration",
        "refreshTokenHash",
        "lastRefill",
    )
)


def _user_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"users": {"_id": oid(args["user_id"])}, "balances": {"user": oid(args["user_id"])}}


def _session_footprint(db: Database, args: Args) -> dict[str, dict]:
    if "user_id" in args:
        return {"sessions": {"user": oid(args["user_id"], "user")}}
    if "session_id" in args:
        return {"sessions": {"_id": oid(args["session_id"])}}
    return {"sessions": {"refreshTokenHash": args["refresh_token_hash"]}}


def _new_users(s: Sampler) -> list[Args]:
    n = 5 if s.n is None else s.n
    return [
        {
            "data": {
                "email": f"New.User{i}@Example.com",
                "name": f"New User {i}",
                "username": f"NewUser{i}",
                "provider": "local",
                "emailVerified": False,
                "unknownField": "dropped by strict mode",
            },
            "start_balance": 20000 if i % 2 == 0 else None,
        }
        for i in range(n)
    ]


def _user_updates(s: Sampler) -> list[Args]:
    return [
        {
            **a,
            "data": {
                "name": "Renamed",
                "avatar": "https://x.test/a.png?manual=true",
                "notInSchema": 1,
            },
        }
        for a in _user_ids(s)
        if a["user_id"] != "not-an-object-id"
    ]


def _session_refreshes(s: Sampler) -> list[Args]:
    found = s.pick("sessions", fields=("_id",))
    return [
        {"session_id": str(x["_id"]), "refresh_token_hash": "f" * 64, "now": s.now} for x in found
    ]


def _session_hashes(s: Sampler) -> list[Args]:
    return [{"refresh_token_hash": a["refresh_token_hash"]} for a in _sessions(s)]


def _other_sessions(s: Sampler) -> list[Args]:
    found = s.pick("sessions", fields=("_id", "user"))
    return [{"user_id": str(x["user"]), "session_id": str(x["_id"])} for x in found]


OPERATIONS = [
    Operation(
        "auth.get_user_by_id",
        "read",
        get_user_by_id,
        gw_get_user_by_id,
        _user_ids,
        hazards={"users_with_ttl": "user", "mixed_case_email": "user"},
    ),
    Operation(
        "auth.find_user_by_email",
        "read",
        find_user_by_email,
        gw_find_user_by_email,
        _emails,
        hazards={"mixed_case_email": "email"},
    ),
    Operation(
        "auth.find_user_for_openid", "read", find_user_for_openid, gw_find_user_for_openid, _openid
    ),
    Operation("auth.count_users", "read", count_users, gw_count_users, lambda s: [{}]),
    Operation(
        "auth.find_session",
        "read",
        find_session,
        gw_find_session,
        _sessions,
        hazards={"expired_sessions": "refreshTokenHash"},
    ),
    Operation(
        "auth.count_active_sessions",
        "read",
        count_active_sessions,
        gw_count_active_sessions,
        _session_users,
        hazards={"expired_sessions": "user"},
    ),
    Operation(
        "auth.find_token",
        "read",
        find_token,
        gw_find_token,
        _tokens,
        hazards={"tokens_without_type": "token"},
    ),
    Operation(
        "auth.get_balance",
        "read",
        get_balance,
        gw_get_balance,
        lambda s: [
            *({"user_id": u} for u in s.ref_values("duplicate_balances", "user")),
            *(a for a in _user_ids(s) if a["user_id"] != "not-an-object-id"),
        ],
        hazards={"duplicate_balances": "user"},
    ),
    Operation(
        "auth.create_user",
        "write",
        create_user,
        gw_create_user,
        _new_users,
        rules=WRITE_RULES,
        footprint=lambda db, a: {},
    ),
    Operation(
        "auth.update_user",
        "write",
        update_user,
        gw_update_user,
        _user_updates,
        rules=WRITE_RULES,
        footprint=_user_footprint,
    ),
    Operation(
        "auth.create_session",
        "write",
        create_session,
        gw_create_session,
        lambda s: _user_ids(s)[:-2],
        rules=WRITE_RULES,
        footprint=_session_footprint,
    ),
    Operation(
        "auth.refresh_session",
        "write",
        refresh_session,
        gw_refresh_session,
        _session_refreshes,
        rules=WRITE_RULES,
        footprint=_session_footprint,
    ),
    Operation(
        "auth.delete_session",
        "write",
        delete_session,
        gw_delete_session,
        _session_hashes,
        rules=WRITE_RULES,
        footprint=_session_footprint,
    ),
    Operation(
        "auth.delete_other_sessions",
        "write",
        delete_other_sessions,
        gw_delete_other_sessions,
        _other_sessions,
        rules=WRITE_RULES,
        footprint=_session_footprint,
    ),
]
