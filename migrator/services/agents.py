"""Agents: load one, the ACL-filtered list, the promoted count, create and update
(docs/librechat.md §4.6, column B).

Legacy functions spell out what B's Mongoose code does: ``api/models/Agent.js`` (``loadAgent``,
``createAgent``, ``updateAgent``, ``getListAgentsByAccess``, ``countPromotedAgents``) and the
ACL lookups of ``PermissionService`` (data-schemas ``getUserPrincipals``, ``aclEntry``).
Gateway functions (``gw_*``) call repositories only.

What the controller (``api/server/controllers/agents/v1.js``) does before and after the data
access — parsing query strings, building the list filter, the duplicate-version check,
stringifying ``author`` — is application code that both paths share, as in LibreChat, where
only the data access switches on ``USE_DB_GATEWAY``. Those helpers are the pure functions below.

Shapes returned (decided from B's code):
- ``agents.get``: the lean document plus ``version`` (= number of ``versions``), as ``loadAgent``.
- ``agents.list``: ``{object:'list', data, first_id, last_id, has_more, after}``; ``data`` rows
  carry the list projection, ``author`` as a hex string and ``isPublic: true`` where a public
  VIEW entry exists. ``after`` encodes the last *returned* row (no popped-row bug here).
- ``agents.create``: the created document (``toObject``); the owner ACL entry is a side effect.
- ``agents.update``: the updated document, ``author`` kept (as hex) only for its author; None
  where the controller answers 404.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.errors import MigratorError
from migrator.gateway.core import DbGateway
from migrator.gateway.repositories.agents import principal_source_pipeline
from migrator.gateway.repository import utcnow
from migrator.services.base import UNKNOWN_ID, Args, Operation, Sampler, oid

VIEW, EDIT, DELETE, SHARE = 1, 2, 4, 8
# The access roles LibreChat seeds into `accessroles` at start-up (`seedDefaultRoles`). B's
# grantPermission reads the role from that collection; the seeded test data has none, so the
# built-in bits stand in and `roleId` is left out when no role document exists.
BUILTIN_ACCESS_ROLES: dict[str, int] = {
    "agent_viewer": VIEW,
    "agent_editor": VIEW | EDIT,
    "agent_owner": VIEW | EDIT | DELETE | SHARE,
    "promptGroup_viewer": VIEW,
    "promptGroup_editor": VIEW | EDIT,
    "promptGroup_owner": VIEW | EDIT | DELETE | SHARE,
}
LIST_PROJECTION: dict[str, int] = dict.fromkeys(
    (
        "id", "_id", "name", "avatar", "author", "projectIds", "description", "updatedAt",
        "category", "support_contact", "is_promoted",
    ),
    1,
)  # fmt: skip
AGENT_FIELDS = model.SCHEMA_FIELDS["agents"]
AGENT_OID_FIELDS = model.OBJECTID_FIELDS["agents"]
VERSION_EXCLUDED = ("__v", "_id", "id", "versions", "author")
UPDATE_OPERATORS = ("$push", "$pull", "$addToSet")
EPOCH = datetime(1970, 1, 1)
_MISSING: Any = object()


# --- application logic shared by both paths (JS semantics of the controller) ----------------


def js_parse_int(value: Any, radix: int | None = None) -> float:
    """JS ``parseInt``: the leading integer of ``String(value)``, or NaN (``math.nan``)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float(int(value)) if math.isfinite(value) else math.nan
    if not isinstance(value, str):
        return math.nan
    text = value.lstrip()
    sign = -1 if text.startswith("-") else 1
    text = text[1:] if text[:1] in "+-" and text else text
    if radix in (None, 16) and text[:2].lower() == "0x":
        digits = re.match(r"[0-9a-fA-F]*", text[2:]).group()
        return sign * int(digits, 16) if digits else math.nan
    digits = re.match(r"[0-9]*", text).group()
    return sign * int(digits) if digits else math.nan


def js_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True  # objects and arrays, even empty ones


def js_string(value: Any) -> str:
    """JS ``String(value)`` for the values query strings and documents hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def normalize_limit(limit: Any) -> int | None:
    """``getListAgentsByAccess``/``getListPromptGroupsByAccess``: no limit ⇒ unpaginated;
    ``parseInt(limit) || 20`` (so 0 and junk become 20), clamped to 1..100."""
    if limit is None:
        return None
    parsed = js_parse_int(limit)
    if not js_truthy(parsed):
        parsed = 20
    return int(min(max(1, parsed), 100))


def parse_required_permission(value: Any) -> Any:
    """The list handler: a query string goes through ``parseInt(x, 10)`` (NaN ⇒ VIEW); a
    number is kept; anything else is VIEW."""
    if isinstance(value, str):
        parsed = js_parse_int(value, 10)
        return VIEW if math.isnan(parsed) else int(parsed)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return VIEW


def check_required_permission(required: Any) -> None:
    """PermissionService re-throws this one validation error (the list answers 500)."""
    if not isinstance(required, int | float) or isinstance(required, bool) or required < 1:
        raise ValueError("requiredPermissions must be a positive number")


def agent_list_filter(category: Any, search: Any, promoted: Any) -> dict[str, Any]:
    """The list handler's base filter: category, promoted flag, unescaped search regex (B)."""
    query: dict[str, Any] = {}
    if isinstance(category, str) and category.strip() != "":
        query["category"] = category  # untrimmed here; the schema's trim setter casts it
    if promoted == "1":
        query["is_promoted"] = True
    elif promoted == "0":
        query["is_promoted"] = {"$ne": True}
    if isinstance(search, str) and search.strip() != "":
        # B passes the user's text as a regex unescaped (later versions escape and cap it).
        term = search.strip()
        query["$or"] = [
            {"name": {"$regex": term, "$options": "i"}},
            {"description": {"$regex": term, "$options": "i"}},
        ]
    return query


def remove_nullish(data: Mapping[str, Any]) -> dict[str, Any]:
    """librechat-data-provider ``removeNullishValues`` (top level)."""
    return {k: v for k, v in data.items() if v is not None}


def create_payload(user_id: str, agent_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``createAgentHandler`` before ``createAgent``: id (a stand-in for ``agent_<nanoid>``),
    author and the tool list. Tool availability checks need the tool registry and are skipped:
    every requested tool is kept."""
    payload = remove_nullish(data)
    tools = payload.pop("tools", None) or []
    payload.update(id=agent_id, author=user_id, tools=list(tools))
    return payload


def update_payload(data: Mapping[str, Any]) -> dict[str, Any]:
    """``updateAgentHandler``: ``const {_id, ...updateData} = removeNullishValues(body)``."""
    return {k: v for k, v in remove_nullish(data).items() if k != "_id"}


def present_author(agent: dict[str, Any] | None, user_id: str) -> dict[str, Any] | None:
    """``updateAgentHandler``'s reply: ``author`` as a string, kept only for the author."""
    if agent is None:
        return None
    out = dict(agent)
    if out.get("author"):
        out["author"] = str(out["author"])
    if out.get("author") != user_id:
        out.pop("author", None)
    return out


def _js_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.strftime("%Y-%m-%dT%H:%M:%S.") + f"{obj.microsecond // 1000:03d}Z"
        return str(obj)

    return json.dumps(value, separators=(",", ":"), default=default, ensure_ascii=False)


def _js_strict_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return a is b
    return type(a) is type(b) and a == b


def _object_keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []  # Dates, ObjectIds: no own keys


def is_duplicate_version(
    update_data: Mapping[str, Any],
    current_data: Mapping[str, Any],
    versions: Sequence[Mapping[str, Any]] | None,
    actions_hash: str | None = None,
) -> Mapping[str, Any] | None:
    """``isDuplicateVersion`` of B's Agent.js: the last version when the update would
    reproduce it (timestamps, ids and author ignored; falsy values, [] and {} alike)."""
    if not versions:
        return None
    excluded = {
        "_id", "id", "createdAt", "updatedAt", "author", "updatedBy", "created_at",
        "updated_at", "__v", "versions", "actionsHash",
    }  # fmt: skip
    direct = {k: v for k, v in update_data.items() if k not in UPDATE_OPERATORS}
    if not direct and not actions_hash:
        return None
    would_be = {**current_data, **direct}
    last = versions[-1]
    if actions_hash and last.get("actionsHash") != actions_hash:
        return None
    fields = [f for f in dict.fromkeys([*would_be, *last]) if f not in excluded]
    for field in fields:
        new, old = would_be.get(field, _MISSING), last.get(field, _MISSING)
        new_v = None if new is _MISSING else new
        old_v = None if old is _MISSING else old
        if not js_truthy(new_v) and not js_truthy(old_v):
            continue
        if isinstance(new_v, list) or isinstance(old_v, list):
            new_arr = new_v if isinstance(new_v, list) else ([] if new_v is None else [new_v])
            old_arr = old_v if isinstance(old_v, list) else ([] if old_v is None else [old_v])
            if len(new_arr) != len(old_arr):
                return None
            if field == "projectIds":
                if sorted(map(str, new_arr)) != sorted(map(str, old_arr)):
                    return None
            elif new_arr and isinstance(new_arr[0], dict):
                if sorted(map(_js_json, new_arr)) != sorted(map(_js_json, old_arr)):
                    return None
            else:
                new_sorted = sorted(new_arr, key=js_string)
                old_sorted = sorted(old_arr, key=js_string)
                if not all(
                    _js_strict_equal(a, b) for a, b in zip(new_sorted, old_sorted, strict=True)
                ):
                    return None
        elif isinstance(new_v, dict | datetime | ObjectId):
            old_obj = old_v if isinstance(old_v, dict | datetime | ObjectId) else {}
            if not _object_keys(new_v) and not _object_keys(old_obj):
                continue  # {} vs {} — and, by the same code, any two Dates
            if _js_json(new_v) != _js_json(old_obj):
                return None
        elif not _js_strict_equal(new_v, old_v):
            if new_v is False and old is _MISSING:
                continue
            if new_v == "" and old is _MISSING:
                continue
            return None
    return last


def mark_public(rows: list[dict[str, Any]], public_ids: Sequence[ObjectId]) -> None:
    public = set(public_ids)
    for row in rows:
        if row.get("_id") in public:
            row["isPublic"] = True


# --- legacy: direct pymongo, spelling out Mongoose -------------------------------------------


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _b64decode_like_node(text: str) -> bytes:
    # Buffer.from(text, 'base64'): URL-safe characters accepted, others skipped, no padding
    # needed; a lone trailing character carries no byte.
    text = text.replace("-", "+").replace("_", "/")
    body = "".join(re.findall(r"[A-Za-z0-9+/]", text))
    if len(body) % 4 == 1:
        body = body[:-1]
    return base64.b64decode(body + "=" * (-len(body) % 4))


def legacy_cursor(after: Any) -> tuple[Any, ObjectId] | None:
    """``JSON.parse(Buffer.from(after, 'base64'))`` then ``new ObjectId(_id)``, inside the
    try/catch that logs "Invalid cursor" and drops the condition (None)."""
    if not after or not isinstance(after, str):
        return None
    try:
        payload = json.loads(_b64decode_like_node(after).decode("utf-8", errors="replace"))
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
    return cursor.get("updatedAt", _MISSING), object_id


def legacy_js_date(value: Any) -> datetime | None:
    """``new Date(value)`` (None = Invalid Date); dates keep milliseconds only."""
    if value is _MISSING:
        return None
    if value is None or isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=int(bool(value)))
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:  # beyond what a datetime holds (year 9999): treated as Invalid Date
            return EPOCH + timedelta(milliseconds=int(value))
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _page(rows: list[dict], limit: int | None) -> tuple[list[dict], bool, str | None]:
    if limit is None:
        return rows, False, None
    has_more = len(rows) > limit
    data = rows[:limit]
    after = None
    if has_more and data:
        last = rows[limit - 1]  # the last returned row, not the extra one
        payload = {"updatedAt": _iso(last["updatedAt"]), "_id": str(last["_id"])}
        after = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return data, has_more, after


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
    try:
        principals = legacy_principals(db, user_id)
        alternatives = [
            {"principalType": p["principalType"]}
            if p["principalType"] == "public"
            else {"principalType": p["principalType"], "principalId": p["principalId"]}
            for p in principals
        ]
        # aclentries.principalId is Mixed: no cast, ObjectIds and role names as they are.
        return db.aclentries.distinct(
            "resourceId",
            {
                "$or": alternatives,
                "resourceType": resource_type,
                "permBits": {"$bitsAllSet": required},
            },
        )
    except MigratorError:
        raise  # the tool's own refusals (read-only guard) are not LibreChat's to swallow
    except Exception:
        return []


def legacy_public(db: Database, resource_type: str) -> list:
    """``findPubliclyAccessibleResources`` (VIEW); errors are logged and answered with []."""
    try:
        return db.aclentries.distinct(
            "resourceId",
            {
                "principalType": "public",
                "resourceType": resource_type,
                "permBits": {"$bitsAllSet": VIEW},
            },
        )
    except MigratorError:
        raise  # the tool's own refusals (read-only guard) are not LibreChat's to swallow
    except Exception:
        return []


def legacy_grant_owner(db: Database, *, user_id: Any, resource_type: str, resource_id: Any) -> None:
    """PermissionService ``grantPermission`` with ``<type>_owner``: aclentries
    ``findOneAndUpdate({principalType, resourceType, resourceId, principalId, principalModel},
    {$set: {permBits, grantedBy, grantedAt, roleId}}, {upsert: true})`` with timestamps and
    ``__v`` on insert. The controllers log a failure and carry on."""
    try:
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
    except MigratorError:
        raise
    except Exception:
        pass  # logger.error('[createAgent] Failed to grant owner permissions ...')


def _cast_agent(key: str, value: Any) -> Any:
    """Mongoose's cast of one agent path: ObjectId paths, the category trim setter, String
    paths turning an ObjectId into its hex. Mixed paths (versions, tool_resources...) stay."""
    top = key.split(".", 1)[0]
    if isinstance(value, dict) and any(k.startswith("$") for k in value):
        return {k: _cast_agent(key, v) if k.startswith("$") else v for k, v in value.items()}
    if top in AGENT_OID_FIELDS:
        if isinstance(value, list):
            return [oid(v, top) for v in value]
        return oid(value, top)
    if top == "category" and isinstance(value, str):
        return value.strip()
    return value


def get_agent(db: Database, *, agent_id: Any) -> dict | None:
    """``loadAgent``: no id ⇒ no query; ``findOne({id}).lean()`` plus ``version``. No author
    filter: any agent by id (the routes check the ACL first)."""
    if not js_truthy(agent_id):
        return None
    # `id` is a String path: Mongoose casts an ObjectId or number to its string.
    agent = db.agents.find_one({"id": agent_id if isinstance(agent_id, str) else str(agent_id)})
    if agent is None:
        return None
    agent["version"] = len(agent["versions"]) if agent.get("versions") is not None else 0
    return agent


def gw_get_agent(gw: DbGateway, *, agent_id: Any) -> dict | None:
    if not js_truthy(agent_id):
        return None
    agent = gw.get_repository("Agent").get_agent({"id": agent_id})
    if agent is not None:
        versions = agent.get("versions")
        agent["version"] = len(versions) if versions is not None else 0
    return agent


def _legacy_list_by_access(
    db: Database, accessible: list, other: dict[str, Any], limit: Any, after: Any
) -> dict[str, Any]:
    """``getListAgentsByAccess``: ``find({...filter, _id: {$in}}, projection)``,
    ``sort({updatedAt: -1, _id: 1})``, ``limit(n + 1)``; cursor ``{updatedAt, _id}``."""
    n = normalize_limit(limit)
    query: dict[str, Any] = dict(other)
    if isinstance(query.get("category"), str):
        query["category"] = query["category"].strip()  # the trim setter runs on query casts
    query["_id"] = {"$in": list(accessible)}
    decoded = legacy_cursor(after)
    if decoded is not None:
        raw_date, object_id = decoded
        when = legacy_js_date(raw_date)
        if when is None:  # new Date(junk) is an Invalid Date; Mongoose's cast rejects it
            raise model.CastError("updatedAt", raw_date, "date")
        condition = {
            "$or": [{"updatedAt": {"$lt": when}}, {"updatedAt": when, "_id": {"$gt": object_id}}]
        }
        query = {"$and": [query, condition]}
    cursor = db.agents.find(query, LIST_PROJECTION).sort([("updatedAt", -1), ("_id", 1)])
    if n is not None:
        cursor = cursor.limit(n + 1)
    data, has_more, next_cursor = _page(list(cursor), n)
    for agent in data:
        if agent.get("author"):
            agent["author"] = str(agent["author"])  # agent.author.toString()
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": has_more,
        "after": next_cursor,
    }


def list_agents(
    db: Database,
    *,
    user_id: Any,
    limit: Any = None,
    cursor: Any = None,
    category: Any = None,
    search: Any = None,
    promoted: Any = None,
    required_permission: Any = None,
) -> dict[str, Any]:
    """``GET /api/agents``: ACL ids (any principal, ``$bitsAllSet``), then one page."""
    required = parse_required_permission(required_permission)
    other = agent_list_filter(category, search, promoted)
    accessible = legacy_accessible(db, user_id, "agent", required)
    public = legacy_public(db, "agent")
    page = _legacy_list_by_access(db, accessible, other, limit, cursor)
    mark_public(page["data"], public)
    return page


def gw_principals(gw: DbGateway, user_id: Any) -> list[dict[str, Any]]:
    uid = ObjectId(user_id)
    rows = gw.get_repository("User").aggregate(principal_source_pipeline(uid))
    return gw.get_repository("AclEntry").get_user_principals(uid, rows[0] if rows else None)


def gw_accessible(gw: DbGateway, user_id: Any, resource_type: str, required: Any) -> list:
    check_required_permission(required)
    try:
        principals = gw_principals(gw, user_id)
        return gw.get_repository("AclEntry").find_accessible_resources(
            principals, resource_type, required
        )
    except MigratorError:
        raise  # the tool's own refusals (read-only guard) are not LibreChat's to swallow
    except Exception:
        return []


def gw_public(gw: DbGateway, resource_type: str) -> list:
    try:
        return gw.get_repository("AclEntry").find_publicly_accessible_resources(resource_type, VIEW)
    except MigratorError:
        raise  # the tool's own refusals (read-only guard) are not LibreChat's to swallow
    except Exception:
        return []


def gw_grant_owner(gw: DbGateway, *, user_id: Any, resource_type: str, resource_id: Any) -> None:
    try:
        acl = gw.get_repository("AclEntry")
        access_role_id = f"{resource_type}_owner"
        role = acl.find_access_role(access_role_id)
        acl.grant_permission(
            "user",
            user_id,
            resource_type,
            resource_id,
            role["permBits"] if role else BUILTIN_ACCESS_ROLES[access_role_id],
            user_id,
            role_id=role["_id"] if role else None,
        )
    except MigratorError:
        raise
    except Exception:
        pass


def gw_list_agents(
    gw: DbGateway,
    *,
    user_id: Any,
    limit: Any = None,
    cursor: Any = None,
    category: Any = None,
    search: Any = None,
    promoted: Any = None,
    required_permission: Any = None,
) -> dict[str, Any]:
    required = parse_required_permission(required_permission)
    other = agent_list_filter(category, search, promoted)
    accessible = gw_accessible(gw, user_id, "agent", required)
    public = gw_public(gw, "agent")
    page = gw.get_repository("Agent").get_list_agents_by_access(
        accessible, other, normalize_limit(limit), cursor
    )
    mark_public(page["data"], public)
    return page


def count_promoted(db: Database) -> int:
    """``countPromotedAgents``: ``countDocuments({is_promoted: true})`` (marketplace tabs)."""
    return db.agents.count_documents({"is_promoted": True})


def gw_count_promoted(gw: DbGateway) -> int:
    return gw.get_repository("Agent").count_promoted_agents()


# --- writes ---------------------------------------------------------------------------------


def create_agent(db: Database, *, user_id: str, agent_id: str, data: dict) -> dict:
    """``POST /api/agents``: ``createAgent`` then the owner ACL entry (permBits 15)."""
    agent_data = create_payload(user_id, agent_id, data)
    # createAgent: versions = [everything but author + timestamps]; category || 'general'.
    # The snapshot is Mixed: it keeps keys strict mode drops and values uncast (raw strings,
    # untrimmed category — and no category at all when the client sent none).
    timestamp = utcnow()
    snapshot = {k: v for k, v in agent_data.items() if k != "author"}
    initial = {
        **agent_data,
        "versions": [{**snapshot, "createdAt": timestamp, "updatedAt": timestamp}],
        "category": agent_data.get("category") or "general",
    }
    # Agent.create: defaults, strict (unknown top-level keys dropped), casts, required
    # validators, timestamps, __v.
    now = utcnow()
    doc: dict[str, Any] = {"_id": ObjectId(), **model.materialize(model.AGENT_DEFAULTS, now)}
    for key, value in initial.items():
        if key in AGENT_FIELDS:
            doc[key] = _cast_agent(key, value)
    missing = [f for f in ("id", "provider", "model", "author") if doc.get(f) in (None, "")]
    if missing:
        raise ValueError(f"Agent validation failed: {', '.join(missing)} required")
    doc.setdefault("createdAt", now)
    doc.setdefault("updatedAt", now)
    doc.setdefault("__v", 0)
    db.agents.insert_one(doc)
    legacy_grant_owner(db, user_id=user_id, resource_type="agent", resource_id=doc["_id"])
    return doc


def gw_create_agent(gw: DbGateway, *, user_id: str, agent_id: str, data: dict) -> dict:
    agent_data = create_payload(user_id, agent_id, data)
    timestamp = utcnow()
    version = {k: v for k, v in agent_data.items() if k != "author"}
    agent = gw.get_repository("Agent").create(
        {
            **agent_data,
            "versions": [{**version, "createdAt": timestamp, "updatedAt": timestamp}],
            "category": agent_data.get("category") or "general",
        }
    )
    gw_grant_owner(gw, user_id=user_id, resource_type="agent", resource_id=agent["_id"])
    return agent


def _legacy_update_model(
    db: Database, search: dict[str, Any], update_data: dict[str, Any], updating_user_id: Any
) -> dict | None:
    """B's ``updateAgent``: ``findOne`` (hydrated), duplicate check, a version snapshot pushed,
    then ``findOneAndUpdate(search, update, {new: true}).lean()``."""
    update = dict(update_data)
    current = db.agents.find_one(search)
    if current is not None:
        version_data = {k: v for k, v in current.items() if k not in VERSION_EXCLUDED}
        direct = {k: v for k, v in update.items() if k not in UPDATE_OPERATORS}
        should_version = bool(direct) or any(update.get(op) is not None for op in UPDATE_OPERATORS)
        if should_version and (is_duplicate_version(update, version_data, current.get("versions"))):
            # Duplicate: no write; the current agent with its version number.
            return {**current, "version": len(current["versions"])}
        # The actionsHash of agents with actions (read from `actions`) is not reproduced.
        entry = {**version_data, **direct, "updatedAt": utcnow()}
        if updating_user_id:
            entry["updatedBy"] = ObjectId(updating_user_id)
        if should_version:
            update["$push"] = {**(update.get("$push") or {}), "versions": entry}
    # Mongoose: plain keys go into $set, strict drops unknown paths and the immutable
    # createdAt, values are cast, and timestamps add $set.updatedAt.
    plain = {k: v for k, v in update.items() if not k.startswith("$")}
    plain.update(update.get("$set") or {})
    changes = {
        k: _cast_agent(k, v)
        for k, v in plain.items()
        if k.split(".", 1)[0] in AGENT_FIELDS and k != "createdAt"
    }
    changes["updatedAt"] = utcnow()
    mongo_update: dict[str, Any] = {"$set": changes}
    for op in UPDATE_OPERATORS:
        if update.get(op):
            kept = {
                k: _cast_agent(k, v)
                for k, v in update[op].items()
                if k.split(".", 1)[0] in AGENT_FIELDS
            }
            if kept:
                mongo_update[op] = kept
    return db.agents.find_one_and_update(search, mongo_update, return_document=ReturnDocument.AFTER)


def update_agent(db: Database, *, agent_id: str, user_id: str, data: dict) -> dict | None:
    """``PATCH /api/agents/:id``: ``getAgent`` (404 ⇒ None), ``updateAgent`` when anything is
    left after dropping nullish values and ``_id``; ``author`` shown only to its author."""
    update_data = update_payload(data)
    existing = db.agents.find_one({"id": agent_id})
    if existing is None:
        return None
    updated = (
        _legacy_update_model(db, {"id": agent_id}, update_data, user_id)
        if update_data
        else existing
    )
    return present_author(updated, user_id)


def _gw_update_model(
    gw: DbGateway, search: dict[str, Any], update_data: dict[str, Any], updating_user_id: Any
) -> dict | None:
    repo = gw.get_repository("Agent")
    current = repo.find_one(search)
    update = dict(update_data)
    if current is not None:
        version_data = {k: v for k, v in current.items() if k not in VERSION_EXCLUDED}
        direct = {k: v for k, v in update.items() if k not in UPDATE_OPERATORS}
        pushes = [op for op in UPDATE_OPERATORS if update.get(op) is not None]
        should_version = bool(direct) or bool(pushes)
        versions = current.get("versions")
        if should_version and is_duplicate_version(update, version_data, versions):
            return {**current, "version": len(versions)}
        entry = {**version_data, **direct, "updatedAt": utcnow()}
        if updating_user_id:
            entry["updatedBy"] = ObjectId(updating_user_id)
        if should_version:
            update["$push"] = {**(update.get("$push") or {}), "versions": entry}
    return repo.find_one_and_update(search, update)


def gw_update_agent(gw: DbGateway, *, agent_id: str, user_id: str, data: dict) -> dict | None:
    update_data = update_payload(data)
    existing = gw.get_repository("Agent").get_agent({"id": agent_id})
    if existing is None:
        return None
    updated = (
        _gw_update_model(gw, {"id": agent_id}, update_data, user_id) if update_data else existing
    )
    return present_author(updated, user_id)


# --- samplers -------------------------------------------------------------------------------


AGENT_HAZARDS = ("authorless_agents", "sort_key_ties")


def _agent_ids(s: Sampler) -> list[Args]:
    planted = [{"id": i} for h in AGENT_HAZARDS for i in s.ref_values(h, "agent_id")[:1]]
    found = [*planted, *s.pick("agents", fields=("id",))]
    out: list[Args] = [{"agent_id": a["id"]} for a in found if a.get("id")]
    if out:  # ids are case-sensitive nanoids
        out.append({"agent_id": out[0]["agent_id"].swapcase()})
    return [*out, {"agent_id": ""}, {"agent_id": "agent_doesNotExist0000000000"}]


def _encode(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


PAST_THE_END = _encode({"updatedAt": "1970-01-01T00:00:00.000Z", "_id": "0" * 24})
BAD_DATE_CURSOR = _encode({"updatedAt": "yesterday", "_id": "0" * 24})


def _list_args(s: Sampler) -> list[Args]:
    planted = [u for h in AGENT_HAZARDS for u in s.ref_values(h, "user")[:1]]
    users = [*planted, *(str(u["_id"]) for u in s.pick("users"))]
    authors = [str(a) for a in s.owners("agents", "author", 6)][:3]
    agents = s.pick("agents", fields=("name", "category"), n=3)
    out: list[Args] = [{"user_id": u} for u in users]
    out += [{"user_id": u, "limit": "10", "required_permission": "2"} for u in authors + users[:2]]
    for author in authors[:2]:
        first = list_agents(s.db, user_id=author, limit="1")
        out.append({"user_id": author, "limit": "1"})
        if first["after"]:
            out.append({"user_id": author, "limit": "1", "cursor": first["after"]})
    who = authors[0] if authors else (users[0] if users else UNKNOWN_ID)
    for agent in agents:
        word = (agent.get("name") or "x").split()[0]
        out += [
            {"user_id": who, "search": word.lower()},
            {"user_id": who, "search": f"  {word.upper()} "},
            {"user_id": who, "category": agent.get("category") or "general"},
            {"user_id": who, "category": f" {agent.get('category') or 'general'} "},
        ]
    out += [
        {"user_id": who, "promoted": "1"},
        {"user_id": who, "promoted": "0", "limit": 5},
        {"user_id": who, "limit": "0"},
        {"user_id": who, "limit": "abc"},
        {"user_id": who, "limit": "500"},
        {"user_id": who, "limit": "10", "cursor": "not-a-cursor"},
        {"user_id": who, "limit": "10", "cursor": PAST_THE_END},
        {"user_id": who, "limit": "10", "cursor": BAD_DATE_CURSOR},
        {"user_id": who, "search": "zzz-no-such-agent"},
        {"user_id": who, "required_permission": "abc"},
        {"user_id": who, "required_permission": 0},
        {"user_id": UNKNOWN_ID},
        {"user_id": "not-an-object-id"},
    ]
    return out


def _new_agents(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("_id",), n=3 if s.n is None else min(s.n, 3))
    out: list[Args] = []
    for i, user in enumerate(users):
        data: dict[str, Any] = {
            "name": f"Migrator Agent {i}",
            "description": "Created by the migrator write check.",
            "instructions": "Answer briefly.",
            "provider": "openAI",
            "model": "gpt-4o",
            "tools": ["web_search"] if i % 2 else [],
            "model_parameters": {"temperature": 0.2},
            "conversation_starters": ["Hello"],
        }
        if i % 3 == 1:
            data["category"] = "  rd "  # trimmed at the top level, raw in the snapshot
        if i % 3 == 2:
            data["unknownField"] = "dropped at the top level, kept in versions[0]"
            data["avatar"] = None  # nullish: removed by the controller
        out.append(
            {"user_id": str(user["_id"]), "agent_id": f"agent_migratorNew{i:010d}", "data": data}
        )
    if users:  # a required path missing: Mongoose's validation error, nothing written
        out.append(
            {
                "user_id": str(users[0]["_id"]),
                "agent_id": "agent_migratorBroken0000000",
                "data": {"name": "No model", "provider": "openAI"},
            }
        )
    return out


def _agent_updates(s: Sampler) -> list[Args]:
    agents = s.pick("agents", fields=("id", "author", "name"), n=3 if s.n is None else min(s.n, 3))
    other = next(iter(s.pick("users", n=1)), {"_id": UNKNOWN_ID})
    out: list[Args] = []
    for i, agent in enumerate(agents):
        author = str(agent["author"])
        # the same name again: a duplicate version, answered without a write
        out.append(
            {"agent_id": agent["id"], "user_id": str(other["_id"]), "data": {"name": agent["name"]}}
        )
        out.append(
            {
                "agent_id": agent["id"],
                "user_id": author,
                "data": {"description": f"Edited {i}", "category": " it ", "notInSchema": 1},
            }
        )
        out.append({"agent_id": agent["id"], "user_id": author, "data": {"description": None}})
    if agents:
        out.append(
            {
                "agent_id": agents[0]["id"],
                "user_id": str(agents[0]["author"]),
                "data": {"is_promoted": True},
            }
        )
    return [
        *out,
        {"agent_id": "agent_doesNotExist0000000000", "user_id": UNKNOWN_ID, "data": {"name": "x"}},
    ]


READ_RULES = Rules()
# Globs without a dot match the key at any depth (migrator.compare.normalize): generated ids,
# clocks, and the new agent's _id where the ACL entry points at it.
WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "resourceId", "grantedAt"))


def _user_oid(value: Any) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def _create_footprint(db: Database, args: Args) -> dict[str, dict]:
    out: dict[str, dict] = {
        "agents": {"id": args["agent_id"]},
        "accessroles": {"accessRoleId": "agent_owner"},
    }
    user = _user_oid(args["user_id"])
    if user is not None:
        out["aclentries"] = {"principalId": user, "resourceType": "agent"}
    return out


OPERATIONS = [
    Operation(
        "agents.get",
        "read",
        get_agent,
        gw_get_agent,
        _agent_ids,
        rules=READ_RULES,
        hazards=dict.fromkeys(AGENT_HAZARDS, "agent_id"),
    ),
    Operation(
        "agents.list",
        "read",
        list_agents,
        gw_list_agents,
        _list_args,
        rules=READ_RULES,
        hazards=dict.fromkeys(AGENT_HAZARDS, "user"),
    ),
    Operation(
        "agents.count_promoted",
        "read",
        count_promoted,
        gw_count_promoted,
        lambda s: [{}],
        rules=READ_RULES,
    ),
    Operation(
        "agents.create",
        "write",
        create_agent,
        gw_create_agent,
        _new_agents,
        rules=WRITE_RULES,
        footprint=_create_footprint,
    ),
    Operation(
        "agents.update",
        "write",
        update_agent,
        gw_update_agent,
        _agent_updates,
        rules=WRITE_RULES,
        footprint=lambda db, a: {"agents": {"id": a["agent_id"]}},
    ),
]
