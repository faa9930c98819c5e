"""Auth, the legacy path: direct pymongo spelling out what Mongoose does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.auth.shared import BALANCE_FIELDS, REFILL_FIELDS, refresh_hash
from migrator.services.mongoose import cast_filter, oid

USER_PROJECTION = model.USER_AUTH_PROJECTION  # password, totpSecret, backupCodes, __v hidden


def get_user_by_id(db: Database, *, user_id: str) -> dict | None:
    """JWT strategy: the user of every authenticated request."""
    return db.users.find_one({"_id": oid(user_id)}, USER_PROJECTION)


def find_user_by_email(db: Database, *, email: str) -> dict | None:
    """Local login / register: `findUser({email: input.trim()})`, lowercased by the schema."""
    return db.users.find_one({"email": email.strip().lower()}, model.USER_DEFAULT_PROJECTION)


def find_user_for_openid(db: Database, *, openid_id: str, email: str) -> dict | None:
    """OpenID login (B): by `openidId`, then by email."""
    users = db.users
    found = users.find_one({"openidId": openid_id}, model.USER_DEFAULT_PROJECTION)
    if found is None:
        found = users.find_one({"email": email.strip().lower()}, model.USER_DEFAULT_PROJECTION)
    return found


def count_users(db: Database) -> int:
    """Register: the first user becomes ADMIN (`countDocuments({})`)."""
    return db.users.count_documents({})


def find_session(db: Database, *, refresh_token_hash: str, user_id: str, now: datetime) -> Any:
    """Refresh: the live session for this refresh-token hash and user."""
    return db.sessions.find_one(
        {
            "refreshTokenHash": refresh_token_hash,
            "user": oid(user_id, "user"),
            "expiration": {"$gt": now},
        }
    )


def count_active_sessions(db: Database, *, user_id: str, now: datetime) -> int:
    return db.sessions.count_documents({"user": oid(user_id, "user"), "expiration": {"$gt": now}})


def find_token(db: Database, **conditions: Any) -> dict | None:
    """data-schemas `findToken` (B): `Token.findOne({$and: conditions}).lean()`, a condition per
    truthy key of `model.TOKEN_QUERY_KEYS`. With none, Mongoose's cast deletes the empty `$and`
    (mongoose lib/cast.js lines 87-90), so LibreChat gets the first token of `findOne({})`."""
    parts = [{k: conditions[k]} for k in model.TOKEN_QUERY_KEYS if conditions.get(k)]
    return db.tokens.find_one(cast_filter("tokens", {"$and": parts}))


def get_balance(db: Database, *, user_id: str) -> dict | None:
    """`GET /api/balance`: refill fields are dropped when auto-refill is off; None is a 404."""
    projection = {**dict.fromkeys(BALANCE_FIELDS, 1), "_id": 0}
    doc = db.balances.find_one({"user": oid(user_id, "user")}, projection)
    if doc is not None and not doc.get("autoRefillEnabled"):
        for key in REFILL_FIELDS:
            doc.pop(key, None)
    return doc


def create_user(db: Database, *, data: dict, start_balance: int | None = None) -> dict:
    """Register/social sign-up: `createUser` (save with defaults) + the start balance upsert."""
    now = utcnow()
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


def update_user(db: Database, *, user_id: str, data: dict) -> dict | None:
    """`updateUser`: $set the data, unset the TTL, bump updatedAt; returns the new document."""
    allowed = {
        k: v
        for k, v in data.items()
        if k in model.SCHEMA_FIELDS["users"] and k not in ("_id", "createdAt")
    }
    return db.users.find_one_and_update(
        {"_id": oid(user_id)},
        {"$set": {**allowed, "updatedAt": utcnow()}, "$unset": {"expiresAt": ""}},
        projection=model.USER_DEFAULT_PROJECTION,
        return_document=ReturnDocument.AFTER,
    )


def create_session(db: Database, *, user_id: str) -> dict:
    """Login `setAuthTokens`: one insert with expiration now + 7 days and the token hash."""
    session_id = ObjectId()
    doc = {
        "_id": session_id,
        "user": oid(user_id, "user"),
        "expiration": utcnow() + timedelta(days=7),
        "refreshTokenHash": refresh_hash(user_id, session_id),
        "__v": 0,
    }
    db.sessions.insert_one(doc)
    return doc


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


def delete_session(db: Database, *, refresh_token_hash: str) -> int:
    """Logout: `deleteOne({refreshTokenHash})`."""
    return db.sessions.delete_one({"refreshTokenHash": refresh_token_hash}).deleted_count


def delete_other_sessions(db: Database, *, user_id: str, session_id: str) -> int:
    """`deleteMany({user, _id: {$ne: current}})`: log out everywhere else."""
    return db.sessions.delete_many(
        {"user": oid(user_id, "user"), "_id": {"$ne": oid(session_id)}}
    ).deleted_count
