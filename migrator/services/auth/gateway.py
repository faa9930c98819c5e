"""Auth, the gateway path: the User, Session, Token and Balance repositories only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from migrator import model
from migrator.gateway.core import DbGateway
from migrator.services.auth.shared import BALANCE_FIELDS, REFILL_FIELDS, refresh_hash


def gw_get_user_by_id(gw: DbGateway, *, user_id: str) -> dict | None:
    return gw.get_repository("User").find_by_id(user_id, {"__v": 0})


def gw_find_user_by_email(gw: DbGateway, *, email: str) -> dict | None:
    return gw.get_repository("User").find_by_email(email)


def gw_find_user_for_openid(gw: DbGateway, *, openid_id: str, email: str) -> dict | None:
    repo = gw.get_repository("User")
    return repo.find_by_provider_id("openid", openid_id) or repo.find_by_email(email)


def gw_count_users(gw: DbGateway) -> int:
    return gw.get_repository("User").count({})


def gw_find_session(gw: DbGateway, *, refresh_token_hash: str, user_id: str, now: datetime) -> Any:
    return gw.get_repository("Session").find_session(refresh_token_hash, user_id, now)


def gw_count_active_sessions(gw: DbGateway, *, user_id: str, now: datetime) -> int:
    return gw.get_repository("Session").count_active_sessions(user_id, now)


def gw_find_token(gw: DbGateway, **conditions: Any) -> dict | None:
    return gw.get_repository("Token").find_token(**conditions)


def gw_get_balance(gw: DbGateway, *, user_id: str) -> dict | None:
    doc = gw.get_repository("Balance").find_by_user(
        user_id, {**dict.fromkeys(BALANCE_FIELDS, 1), "_id": 0}
    )
    if doc is None or doc.get("autoRefillEnabled"):
        return doc
    return {k: v for k, v in doc.items() if k not in REFILL_FIELDS}


def gw_create_user(gw: DbGateway, *, data: dict, start_balance: int | None = None) -> dict:
    user = gw.get_repository("User").create(data)
    if start_balance:
        gw.get_repository("Balance").find_one_and_update(
            {"user": user["_id"]}, {"$inc": {"tokenCredits": start_balance}}, upsert=True
        )
    return {k: v for k, v in user.items() if k not in model.HIDDEN_FIELDS["users"]}


def gw_update_user(gw: DbGateway, *, user_id: str, data: dict) -> dict | None:
    return gw.get_repository("User").find_one_and_update(
        {"_id": user_id}, {"$set": data, "$unset": {"expiresAt": ""}}
    )


def gw_create_session(gw: DbGateway, *, user_id: str) -> dict:
    session_id = ObjectId()
    return gw.get_repository("Session").create_session(
        user_id, refresh_hash(user_id, session_id), session_id=session_id
    )


def gw_refresh_session(
    gw: DbGateway, *, session_id: str, refresh_token_hash: str, now: datetime
) -> dict | None:
    repo = gw.get_repository("Session")
    found = repo.find_one({"_id": session_id, "expiration": {"$gt": now}})
    if found is None:
        return None
    repo.update_one({"_id": found["_id"]}, {"refreshTokenHash": refresh_token_hash})
    return {**found, "refreshTokenHash": refresh_token_hash}


def gw_delete_session(gw: DbGateway, *, refresh_token_hash: str) -> int:
    return gw.get_repository("Session").delete_session({"refreshTokenHash": refresh_token_hash})


def gw_delete_other_sessions(gw: DbGateway, *, user_id: str, session_id: str) -> int:
    return gw.get_repository("Session").delete_all_user_sessions(user_id, session_id)
