"""The legacy path of the by-access lists: PermissionService's ACL lookups (data-schemas
``getUserPrincipals``, ``aclEntry``) and the cursor page of ``getListAgentsByAccess`` /
``getListPromptGroupsByAccess``, spelled out with pymongo as B's Mongoose code does them.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator.gateway.repository import utcnow
from migrator.services.access import (
    BUILTIN_ACCESS_ROLES,
    VIEW,
    check_required_permission,
    encode_cursor,
)
from migrator.services.base import catch_all
from migrator.services.js import UNDEFINED, buffer_from_base64, iso


def legacy_cursor(after: Any) -> tuple[Any, ObjectId] | None:
    """``JSON.parse(Buffer.from(after, 'base64'))`` then ``new ObjectId(_id)``, inside the
    try/catch that logs "Invalid cursor" and drops the condition (None)."""
    if not after or not isinstance(after, str):
        return None
    try:
        payload = json.loads(buffer_from_base64(after).decode("utf-8", errors="replace"))
    except (ValueError, binascii.Error):
        return None
    if payload is None:
        return None
    cursor = payload if isinstance(payload, dict) else {}
    raw_id = cursor.get("_id")
    try:
        object_id = ObjectId() if raw_id is None else ObjectId(raw_id)
    except (InvalidId, TypeError):
        return None
    return cursor.get("updatedAt", UNDEFINED), object_id


def page(rows: list[dict], limit: int | None) -> tuple[list[dict], bool, str | None]:
    """The page of ``limit + 1`` rows read: (rows shown, has more, the next cursor)."""
    if limit is None:
        return rows, False, None
    has_more = len(rows) > limit
    data = rows[:limit]
    after = None
    if has_more and data:
        last = rows[limit - 1]  # the last returned row, not the extra one
        after = encode_cursor({"updatedAt": iso(last["updatedAt"]), "_id": str(last["_id"])})
    return data, has_more, after


def after_cursor(when: datetime, object_id: ObjectId) -> dict[str, Any]:
    """The rows after the cursor's, in the lists' order ``{updatedAt: -1, _id: 1}``."""
    return {"$or": [{"updatedAt": {"$lt": when}}, {"updatedAt": when, "_id": {"$gt": object_id}}]}


def list_body(
    data: list[dict], has_more: bool, after: str | None, row_id: Callable[[dict], Any]
) -> dict[str, Any]:
    """The ``{object: 'list', ...}`` answer of both by-access lists, ``author`` as a hex
    string (``author.toString()``)."""
    for row in data:
        if row.get("author"):
            row["author"] = str(row["author"])
    return {
        "object": "list",
        "data": data,
        "first_id": row_id(data[0]) if data else None,
        "last_id": row_id(data[-1]) if data else None,
        "has_more": has_more,
        "after": after,
    }


def legacy_principals(db: Database, user_id: Any) -> list[dict[str, Any]]:
    """data-schemas ``getUserPrincipals``: user, role, groups, public. A user id that is not an
    ObjectId makes ``new Types.ObjectId`` throw (callers swallow it)."""
    uid = ObjectId(user_id)
    principals: list[dict[str, Any]] = [{"principalType": "user", "principalId": uid}]
    found = db.users.find_one({"_id": uid}, {"role": 1})  # findById(userId).select('role')
    role = (found or {}).get("role")
    if isinstance(role, str) and role.strip():
        principals.append({"principalType": "role", "principalId": role})
    # getUserGroups -> findGroupsByMemberId: groups list members by idOnTheSource (or id hex)
    member = db.users.find_one({"_id": uid}, {"idOnTheSource": 1})
    if member is not None:
        member_id = member.get("idOnTheSource") or str(uid)
        for group in db.groups.find({"memberIds": member_id}, {"_id": 1}):
            principals.append({"principalType": "group", "principalId": group["_id"]})
    principals.append({"principalType": "public"})
    return principals


def legacy_accessible(db: Database, user_id: Any, resource_type: str, required: Any) -> list:
    """PermissionService ``findAccessibleResources``: any failure after the validation is
    logged and answered with [] (so an invalid user id sees nothing, not an error)."""
    check_required_permission(required)
    return _accessible_ids(db, user_id, resource_type, required)


@catch_all([])
def _accessible_ids(db: Database, user_id: Any, resource_type: str, required: Any) -> list:
    alternatives = [
        {"principalType": p["principalType"]}
        if p["principalType"] == "public"
        else {"principalType": p["principalType"], "principalId": p["principalId"]}
        for p in legacy_principals(db, user_id)
    ]
    # aclentries.principalId is Mixed: no cast, ObjectIds and role names as they are.
    return db.aclentries.distinct(
        "resourceId",
        {"$or": alternatives, "resourceType": resource_type, "permBits": {"$bitsAllSet": required}},
    )


@catch_all([])
def legacy_public(db: Database, resource_type: str) -> list:
    """``findPubliclyAccessibleResources`` (VIEW); errors are logged and answered with []."""
    return db.aclentries.distinct(
        "resourceId",
        {
            "principalType": "public",
            "resourceType": resource_type,
            "permBits": {"$bitsAllSet": VIEW},
        },
    )


@catch_all(None)  # logger.error('[createAgent] Failed to grant owner permissions ...')
def legacy_grant_owner(db: Database, *, user_id: Any, resource_type: str, resource_id: Any) -> None:
    """PermissionService ``grantPermission`` with ``<type>_owner``: aclentries
    ``findOneAndUpdate({principalType, resourceType, resourceId, principalId, principalModel},
    {$set: {permBits, grantedBy, grantedAt, roleId}}, {upsert: true})`` with timestamps and
    ``__v`` on insert. The controllers log a failure and carry on."""
    access_role_id = f"{resource_type}_owner"
    role = db.accessroles.find_one({"accessRoleId": access_role_id})
    bits = role["permBits"] if role else BUILTIN_ACCESS_ROLES[access_role_id]
    principal = ObjectId(user_id)
    now = utcnow()
    changes: dict[str, Any] = {
        "permBits": bits,
        "grantedBy": principal,  # grantedBy is an ObjectId path: the hex string is cast
        "grantedAt": now,
        "updatedAt": now,
    }
    if role:
        changes["roleId"] = role["_id"]
    db.aclentries.find_one_and_update(
        {
            "principalType": "user",
            "resourceType": resource_type,
            "resourceId": resource_id,
            "principalId": principal,
            "principalModel": "User",
        },
        {"$set": changes, "$setOnInsert": {"createdAt": now, "__v": 0}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
