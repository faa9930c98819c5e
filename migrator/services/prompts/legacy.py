"""Prompts, the legacy path: direct pymongo spelling out B's ``api/models/Prompt.js``."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.access import VIEW, normalize_limit
from migrator.services.access.legacy import (
    after_cursor,
    legacy_accessible,
    legacy_cursor,
    legacy_grant_owner,
    legacy_public,
    list_body,
    page,
)
from migrator.services.base import catch_all
from migrator.services.js import EPOCH, legacy_js_date
from migrator.services.mongoose import cast_filter, oid
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

GROUP_PROJECTION: dict[str, int] = dict.fromkeys(
    (
        "name", "numberOfGenerations", "oneliner", "category", "projectIds", "productionId",
        "author", "authorName", "createdAt", "updatedAt", "productionPrompt.prompt",
    ),
    1,
)  # fmt: skip


def _legacy_list_by_access(
    db: Database, accessible: list, other: dict[str, Any], limit: Any, after: Any
) -> dict[str, Any]:
    """``getListPromptGroupsByAccess``: an aggregation (not cast): ``$match`` ids + filter
    (+ cursor), ``$sort {updatedAt: -1, _id: 1}``, ``$limit n+1``, ``$lookup`` of the
    production prompt, ``$unwind`` (preserve), ``$project``."""
    n = normalize_limit(limit)
    match: dict[str, Any] = {**other, "_id": {"$in": list(accessible)}}
    decoded = legacy_cursor(after)
    if decoded is not None:
        raw_date, object_id = decoded
        # Aggregations are not cast: an Invalid Date goes to the driver, whose BSON
        # serialiser writes NaN milliseconds as 0, the epoch.
        when = legacy_js_date(raw_date) or EPOCH
        match = {"$and": [match, after_cursor(when, object_id)]}
    pipeline: list[dict[str, Any]] = [{"$match": match}, {"$sort": {"updatedAt": -1, "_id": 1}}]
    if n is not None:
        pipeline.append({"$limit": n + 1})
    pipeline += [
        {
            "$lookup": {
                "from": "prompts",
                "localField": "productionId",
                "foreignField": "_id",
                "as": "productionPrompt",
            }
        },
        {"$unwind": {"path": "$productionPrompt", "preserveNullAndEmptyArrays": True}},
        {"$project": GROUP_PROJECTION},
    ]
    rows = list(db.promptgroups.aggregate(pipeline))
    return list_body(*page(rows, n), row_id=lambda group: str(group["_id"]))


def list_groups(
    db: Database,
    *,
    user_id: Any,
    limit: Any = None,
    page_size: Any = None,
    cursor: Any = None,
    name: Any = None,
    category: Any = None,
) -> dict[str, Any]:
    """``GET /api/prompts/groups``: ACL ids (VIEW) + public ids by the category's sharing
    rule, one page, public groups flagged."""
    query, search_shared, shared_only = build_prompt_group_filter(name, category)
    actual_limit = route_limit(limit, page_size)
    actual_cursor = route_cursor(cursor)
    accessible = legacy_accessible(db, user_id, "promptGroup", VIEW)
    public = legacy_public(db, "promptGroup")
    ids = filter_accessible_ids(accessible, search_shared, shared_only, public)
    listed = _legacy_list_by_access(db, ids, query, actual_limit, actual_cursor)
    groups = mark_public_groups(listed["data"], public)
    return format_groups_response(groups, actual_limit, listed["has_more"], listed["after"])


@catch_all(GET_GROUP_ERROR)
def get_group(db: Database, *, group_id: Any) -> Any:
    """``getPromptGroup({_id})``: ``findOne(filter).lean()``; errors become a message. No
    author filter: the route's ``canAccessPromptGroupResource`` middleware checks the ACL."""
    return db.promptgroups.find_one({"_id": oid(group_id)})


@catch_all(GET_PROMPTS_ERROR)
def prompts_of_group(db: Database, *, group_id: Any) -> Any:
    """``getPrompts({groupId})``: ``find`` sorted ``{createdAt: -1}`` (groupId cast to an
    ObjectId); errors become a message. No author filter: every prompt of the group, once the
    route has checked VIEW on the group."""
    return list(db.prompts.find({"groupId": oid(group_id, "groupId")}).sort("createdAt", -1))


def create_prompt_group(
    db: Database, *, user_id: str, author_name: str, prompt: dict, group: dict
) -> dict:
    """``POST /api/prompts``: ``createPromptGroup`` (group upsert with ``productionId: null``,
    prompt upsert, ``productionId`` update) then the owner ACL entry."""
    check_create(prompt, group)
    with saving_group():
        now = utcnow()
        author = oid(user_id, "author")
        # 1) findOneAndUpdate({...group, author, authorName, productionId: null},
        #    {$setOnInsert: same}, {new, upsert}).select('-__v'). The filter matches an
        #    interrupted earlier creation with the same fields, which is then reused.
        #    Mongoose adds $set.updatedAt (also on a match), and on insert createdAt, the
        #    schema defaults of untouched paths and __v.
        #    The filter is cast with `upsert`: a key outside the schema is a StrictModeError
        #    (mongoose lib/cast.js lines 301-306), answered as the generic save error
        #    (saving_group).
        fields = cast_filter(
            "promptgroups",
            {**group, "author": author, "authorName": author_name, "productionId": None},
            upsert=True,
        )
        on_insert = {
            **{k: v for k, v in model.PROMPTGROUP_DEFAULTS.items() if k not in fields},
            **fields,
            "createdAt": now,
            "__v": 0,
        }
        new_group = db.promptgroups.find_one_and_update(
            fields,
            {"$setOnInsert": on_insert, "$set": {"updatedAt": now}},
            projection={"__v": 0},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        # 2) the prompt, the same way (prompts have no schema defaults).
        prompt_fields = cast_filter(
            "prompts", {**prompt, "author": author, "groupId": new_group["_id"]}, upsert=True
        )
        now = utcnow()
        new_prompt = db.prompts.find_one_and_update(
            prompt_fields,
            {
                "$setOnInsert": {**prompt_fields, "createdAt": now, "__v": 0},
                "$set": {"updatedAt": now},
            },
            projection={"__v": 0},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        # 3) findByIdAndUpdate(group, {productionId}, {new}): wrapped in $set, timestamps.
        new_group = db.promptgroups.find_one_and_update(
            {"_id": new_group["_id"]},
            {"$set": {"productionId": new_prompt["_id"], "updatedAt": utcnow()}},
            projection={"__v": 0},
            return_document=ReturnDocument.AFTER,
        )
    return created(
        new_prompt,
        new_group,
        lambda group_id: legacy_grant_owner(
            db, user_id=user_id, resource_type="promptGroup", resource_id=group_id
        ),
    )
