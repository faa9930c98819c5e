"""Agents, the legacy path: direct pymongo spelling out B's ``api/models/Agent.js``."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.access import normalize_limit, parse_required_permission
from migrator.services.access.legacy import (
    after_cursor,
    legacy_accessible,
    legacy_cursor,
    legacy_grant_owner,
    legacy_public,
    list_body,
    page,
)
from migrator.services.agents.shared import (
    UPDATE_OPERATORS,
    VERSION_EXCLUDED,
    agent_list_filter,
    create_payload,
    is_duplicate_version,
    mark_public,
    present_author,
    update_payload,
)
from migrator.services.js import js_truthy, legacy_js_date
from migrator.services.mongoose import oid

AGENT_FIELDS = model.SCHEMA_FIELDS["agents"]
AGENT_OID_FIELDS = model.OBJECTID_FIELDS["agents"]


LIST_PROJECTION: dict[str, int] = dict.fromkeys(
    (
        "id", "_id", "name", "avatar", "author", "projectIds", "description", "updatedAt",
        "category", "support_contact", "is_promoted",
    ),
    1,
)  # fmt: skip


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
        query = {"$and": [query, after_cursor(when, object_id)]}
    cursor = db.agents.find(query, LIST_PROJECTION).sort([("updatedAt", -1), ("_id", 1)])
    if n is not None:
        cursor = cursor.limit(n + 1)
    return list_body(*page(list(cursor), n), row_id=lambda agent: agent.get("id"))


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
    listed = _legacy_list_by_access(db, accessible, other, limit, cursor)
    mark_public(listed["data"], public)
    return listed


def count_promoted(db: Database) -> int:
    """``countPromotedAgents``: ``countDocuments({is_promoted: true})`` (marketplace tabs)."""
    return db.agents.count_documents({"is_promoted": True})


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
