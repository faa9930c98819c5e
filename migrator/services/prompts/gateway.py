"""Prompts, the gateway path: the PromptGroup, Prompt and AclEntry repositories only."""

from __future__ import annotations

from typing import Any

from migrator.gateway.core import DbGateway
from migrator.services.access import VIEW, normalize_limit
from migrator.services.access.gateway import gw_accessible, gw_grant_owner, gw_public
from migrator.services.base import catch_all
from migrator.services.prompts.shared import (
    GET_GROUP_ERROR,
    GET_PROMPTS_ERROR,
    build_prompt_group_filter,
    check_create,
    created,
    filter_accessible_ids,
    format_groups_response,
    mark_public_groups,
    route_cursor,
    route_limit,
    saving_group,
)


def gw_list_groups(
    gw: DbGateway,
    *,
    user_id: Any,
    limit: Any = None,
    page_size: Any = None,
    cursor: Any = None,
    name: Any = None,
    category: Any = None,
) -> dict[str, Any]:
    query, search_shared, shared_only = build_prompt_group_filter(name, category)
    actual_limit = route_limit(limit, page_size)
    accessible = gw_accessible(gw, user_id, "promptGroup", VIEW)
    public = gw_public(gw, "promptGroup")
    ids = filter_accessible_ids(accessible, search_shared, shared_only, public)
    page = gw.get_repository("PromptGroup").get_list_prompt_groups_by_access(
        ids, query, normalize_limit(actual_limit), route_cursor(cursor)
    )
    groups = mark_public_groups(page["data"], public)
    return format_groups_response(groups, actual_limit, page["has_more"], page["after"])


@catch_all(GET_GROUP_ERROR)
def gw_get_group(gw: DbGateway, *, group_id: Any) -> Any:
    return gw.get_repository("PromptGroup").get_prompt_group({"_id": group_id})


@catch_all(GET_PROMPTS_ERROR)
def gw_prompts_of_group(gw: DbGateway, *, group_id: Any) -> Any:
    return gw.get_repository("Prompt").get_prompts({"groupId": group_id})


def gw_create_prompt_group(
    gw: DbGateway, *, user_id: str, author_name: str, prompt: dict, group: dict
) -> dict:
    check_create(prompt, group)
    groups = gw.get_repository("PromptGroup")
    prompts = gw.get_repository("Prompt")
    hide_v = {"__v": 0}
    with saving_group():
        fields = {**group, "author": user_id, "authorName": author_name, "productionId": None}
        new_group = groups.find_one_and_update(
            fields, {"$setOnInsert": fields}, upsert=True, select=hide_v
        )
        prompt_fields = {**prompt, "author": user_id, "groupId": new_group["_id"]}
        new_prompt = prompts.find_one_and_update(
            prompt_fields, {"$setOnInsert": prompt_fields}, upsert=True, select=hide_v
        )
        new_group = groups.find_one_and_update(
            {"_id": new_group["_id"]}, {"productionId": new_prompt["_id"]}, select=hide_v
        )
    return created(
        new_prompt,
        new_group,
        lambda group_id: gw_grant_owner(
            gw, user_id=user_id, resource_type="promptGroup", resource_id=group_id
        ),
    )
