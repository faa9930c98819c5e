"""What the agents controller does around the data access, shared by both paths (JS
semantics of ``api/server/controllers/agents/v1.js`` and B's ``isDuplicateVersion``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from migrator.services.js import (
    UNDEFINED,
    js_json,
    js_object_keys,
    js_strict_equal,
    js_string,
    js_truthy,
)

VERSION_EXCLUDED = ("__v", "_id", "id", "versions", "author")
UPDATE_OPERATORS = ("$push", "$pull", "$addToSet")


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
        new, old = would_be.get(field, UNDEFINED), last.get(field, UNDEFINED)
        new_v = None if new is UNDEFINED else new
        old_v = None if old is UNDEFINED else old
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
                if sorted(map(js_json, new_arr)) != sorted(map(js_json, old_arr)):
                    return None
            else:
                new_sorted = sorted(new_arr, key=js_string)
                old_sorted = sorted(old_arr, key=js_string)
                if not all(
                    js_strict_equal(a, b) for a, b in zip(new_sorted, old_sorted, strict=True)
                ):
                    return None
        elif isinstance(new_v, dict | datetime | ObjectId):
            old_obj = old_v if isinstance(old_v, dict | datetime | ObjectId) else {}
            if not js_object_keys(new_v) and not js_object_keys(old_obj):
                continue  # {} vs {} — and, by the same code, any two Dates
            if js_json(new_v) != js_json(old_obj):
                return None
        elif not js_strict_equal(new_v, old_v):
            if new_v is False and old is UNDEFINED:
                continue
            if new_v == "" and old is UNDEFINED:
                continue
            return None
    return last


def mark_public(rows: list[dict[str, Any]], public_ids: Sequence[ObjectId]) -> None:
    public = set(public_ids)
    for row in rows:
        if row.get("_id") in public:
            row["isPublic"] = True
