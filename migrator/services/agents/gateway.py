"""Agents, the gateway path: the Agent and AclEntry repositories only."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.access import normalize_limit, parse_required_permission
from migrator.services.access.gateway import gw_accessible, gw_grant_owner, gw_public
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
from migrator.services.js import js_truthy


def gw_get_agent(gw: DbGateway, *, agent_id: Any) -> dict | None:
    if not js_truthy(agent_id):
        return None
    agent = gw.get_repository("Agent").get_agent({"id": agent_id})
    if agent is not None:
        versions = agent.get("versions")
        agent["version"] = len(versions) if versions is not None else 0
    return agent


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


def gw_count_promoted(gw: DbGateway) -> int:
    return gw.get_repository("Agent").count_promoted_agents()


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
