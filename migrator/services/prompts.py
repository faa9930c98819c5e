"""Prompts: the ACL-filtered group list, one group, a group's prompts, create a group
(docs/librechat.md §4.7, column B).

Legacy functions spell out B's ``api/models/Prompt.js`` (``getListPromptGroupsByAccess``,
``getPromptGroup``, ``getPrompts``, ``createPromptGroup``) and the ACL lookups of
``PermissionService``; gateway functions (``gw_*``) call repositories only. The route code of
``api/server/routes/prompts.js`` and its ``@librechat/api`` helpers (``buildPromptGroupFilter``,
``filterAccessibleIdsBySharedLogic``, ``markPublicPromptGroups``, ``formatPromptGroupsResponse``)
is application code both paths share.

Shapes returned (decided from B's code):
- ``prompts.groups_list``: the ``GET /api/prompts/groups`` body ``{promptGroups, pageNumber,
  pageSize, pages, has_more, after}``; rows carry the ``$project`` fields, ``author`` as hex,
  ``productionPrompt: {prompt}`` when the production prompt exists, ``isPublic`` where public.
  With neither ``limit`` nor ``pageSize`` the route fails on ``undefined.toString()`` (a 500):
  both paths raise TypeError.
- ``prompts.get_group`` / ``prompts.prompts_of_group``: the model functions; their catch-all
  turns a cast failure into ``{"message": "Error getting prompt group"}`` / ``"...prompts"``.
- ``prompts.create_prompt_group``: ``{prompt, group: {...group, productionPrompt: {prompt}}}``
  after the three writes, plus the owner ACL entry the route grants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from bson.regex import Regex
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.errors import MigratorError
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.agents import (
    BAD_DATE_CURSOR,
    EPOCH,
    PAST_THE_END,
    VIEW,
    _page,
    gw_accessible,
    gw_grant_owner,
    gw_public,
    js_parse_int,
    js_string,
    js_truthy,
    legacy_accessible,
    legacy_cursor,
    legacy_grant_owner,
    legacy_js_date,
    legacy_public,
    normalize_limit,
)
from migrator.services.base import UNKNOWN_ID, Args, Operation, Sampler, oid
from migrator.services.mongoose import cast_filter

# librechat-data-provider SystemCategories
MY_PROMPTS = "sys__my__prompts__sys"
NO_CATEGORY = "sys__no__category__sys"
SHARED_PROMPTS = "sys__shared__prompts__sys"
ALL_CATEGORIES = "sys__all__sys"  # not special-cased by the filter: a literal category
GROUP_PROJECTION: dict[str, int] = dict.fromkeys(
    (
        "name", "numberOfGenerations", "oneliner", "category", "projectIds", "productionId",
        "author", "authorName", "createdAt", "updatedAt", "productionPrompt.prompt",
    ),
    1,
)  # fmt: skip


class PromptGroupSaveError(RuntimeError):
    """``createPromptGroup`` wraps every failure in ``Error('Error saving prompt group')``."""


# --- application logic shared by both paths (route and @librechat/api helpers) --------------


def escape_regexp(text: str) -> str:
    """``str.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&')``."""
    return "".join("\\" + c if c in ".*+?^${}()|[]\\" else c for c in text)


def build_prompt_group_filter(name: Any, category: Any) -> tuple[dict[str, Any], bool, bool]:
    """(filter, searchShared, searchSharedOnly) of ``buildPromptGroupFilter``."""
    query: dict[str, Any] = {}
    search_shared, shared_only = True, False
    if js_truthy(name):
        query["name"] = Regex(escape_regexp(js_string(name)), "i")
    if category == MY_PROMPTS:
        search_shared = False
    elif category == NO_CATEGORY:
        query["category"] = ""
    elif category == SHARED_PROMPTS:
        shared_only = True
    elif js_truthy(category):
        query["category"] = category
    return query, search_shared, shared_only


def filter_accessible_ids(
    accessible: Sequence[ObjectId],
    search_shared: bool,
    shared_only: bool,
    public: Sequence[ObjectId],
) -> list[ObjectId]:
    """``filterAccessibleIdsBySharedLogic``. "My prompts" drops every public group, the user's
    own public ones included; the default list is accessible + public (duplicates kept)."""
    public_set = {str(i) for i in public}
    if not search_shared:
        return [i for i in accessible if str(i) not in public_set]
    if shared_only:
        if not public:
            return []
        accessible_set = {str(i) for i in accessible}
        return [i for i in public if str(i) in accessible_set]
    return [*accessible, *public]


def route_limit(limit: Any, page_size: Any) -> Any:
    """``if (pageSize && !limit) actualLimit = parseInt(pageSize, 10)``."""
    if js_truthy(page_size) and not js_truthy(limit):
        return js_parse_int(page_size, 10)
    return limit


def route_cursor(cursor: Any) -> Any:
    if js_truthy(cursor) and cursor in ("undefined", "null"):
        return None
    return cursor if js_truthy(cursor) else None


def format_groups_response(
    groups: list[dict[str, Any]], actual_limit: Any, has_more: bool, after: Any
) -> dict[str, Any]:
    """``formatPromptGroupsResponse`` with ``pageSize: actualLimit.toString()``."""
    if actual_limit is None:
        raise TypeError("Cannot read properties of undefined (reading 'toString')")
    page_size = js_string(actual_limit)
    return {
        "promptGroups": groups,
        "pageNumber": "1",
        "pageSize": page_size or js_string(actual_limit) or "10",
        "pages": "9999" if has_more else "1",
        "has_more": has_more,
        "after": after,
    }


def mark_public_groups(rows: list[dict[str, Any]], public: Sequence[ObjectId]) -> list[dict]:
    public_set = set(public)
    return [{**row, "isPublic": True} if row.get("_id") in public_set else row for row in rows]


def check_create(prompt: Any, group: Any) -> None:
    """The route's 400: 'Prompt and group name are required'."""
    if not js_truthy(prompt) or not js_truthy(group) or not js_truthy(group.get("name")):
        raise ValueError("Prompt and group name are required")


# --- legacy ---------------------------------------------------------------------------------


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
        condition = {
            "$or": [{"updatedAt": {"$lt": when}}, {"updatedAt": when, "_id": {"$gt": object_id}}]
        }
        match = {"$and": [match, condition]}
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
    data, has_more, next_cursor = _page(list(db.promptgroups.aggregate(pipeline)), n)
    for group in data:
        if group.get("author"):
            group["author"] = str(group["author"])
    return {
        "object": "list",
        "data": data,
        "first_id": str(data[0]["_id"]) if data else None,
        "last_id": str(data[-1]["_id"]) if data else None,
        "has_more": has_more,
        "after": next_cursor,
    }


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
    page = _legacy_list_by_access(db, ids, query, actual_limit, actual_cursor)
    groups = mark_public_groups(page["data"], public)
    return format_groups_response(groups, actual_limit, page["has_more"], page["after"])


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


def get_group(db: Database, *, group_id: Any) -> Any:
    """``getPromptGroup({_id})``: ``findOne(filter).lean()``; errors become a message. No
    author filter: the route's ``canAccessPromptGroupResource`` middleware checks the ACL."""
    try:
        return db.promptgroups.find_one({"_id": oid(group_id)})
    except MigratorError:
        raise
    except Exception:
        return {"message": "Error getting prompt group"}


def gw_get_group(gw: DbGateway, *, group_id: Any) -> Any:
    try:
        return gw.get_repository("PromptGroup").get_prompt_group({"_id": group_id})
    except MigratorError:
        raise
    except Exception:
        return {"message": "Error getting prompt group"}


def prompts_of_group(db: Database, *, group_id: Any) -> Any:
    """``getPrompts({groupId})``: ``find`` sorted ``{createdAt: -1}`` (groupId cast to an
    ObjectId); errors become a message. No author filter: every prompt of the group, once the
    route has checked VIEW on the group."""
    try:
        return list(db.prompts.find({"groupId": oid(group_id, "groupId")}).sort("createdAt", -1))
    except MigratorError:
        raise
    except Exception:
        return {"message": "Error getting prompts"}


def gw_prompts_of_group(gw: DbGateway, *, group_id: Any) -> Any:
    try:
        return gw.get_repository("Prompt").get_prompts({"groupId": group_id})
    except MigratorError:
        raise
    except Exception:
        return {"message": "Error getting prompts"}


# --- writes ---------------------------------------------------------------------------------


def create_prompt_group(
    db: Database, *, user_id: str, author_name: str, prompt: dict, group: dict
) -> dict:
    """``POST /api/prompts``: ``createPromptGroup`` (group upsert with ``productionId: null``,
    prompt upsert, ``productionId`` update) then the owner ACL entry."""
    check_create(prompt, group)
    try:
        now = utcnow()
        author = oid(user_id, "author")
        # 1) findOneAndUpdate({...group, author, authorName, productionId: null},
        #    {$setOnInsert: same}, {new, upsert}).select('-__v'). The filter matches an
        #    interrupted earlier creation with the same fields, which is then reused.
        #    Mongoose adds $set.updatedAt (also on a match), and on insert createdAt, the
        #    schema defaults of untouched paths and __v.
        #    The filter is cast with `upsert`: a key outside the schema is a StrictModeError
        #    (mongoose lib/cast.js lines 301-306), answered as the generic save error below.
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
    except MigratorError:
        raise
    except Exception as exc:
        raise PromptGroupSaveError("Error saving prompt group") from exc
    result = {
        "prompt": new_prompt,
        "group": {**new_group, "productionPrompt": {"prompt": new_prompt.get("prompt")}},
    }
    if new_prompt.get("_id") and new_prompt.get("groupId"):
        legacy_grant_owner(
            db, user_id=user_id, resource_type="promptGroup", resource_id=new_prompt["groupId"]
        )
    return result


def gw_create_prompt_group(
    gw: DbGateway, *, user_id: str, author_name: str, prompt: dict, group: dict
) -> dict:
    check_create(prompt, group)
    groups = gw.get_repository("PromptGroup")
    prompts = gw.get_repository("Prompt")
    hide_v = {"__v": 0}
    try:
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
    except MigratorError:
        raise
    except Exception as exc:
        raise PromptGroupSaveError("Error saving prompt group") from exc
    result = {
        "prompt": new_prompt,
        "group": {**new_group, "productionPrompt": {"prompt": new_prompt.get("prompt")}},
    }
    if new_prompt.get("_id") and new_prompt.get("groupId"):
        gw_grant_owner(
            gw, user_id=user_id, resource_type="promptGroup", resource_id=new_prompt["groupId"]
        )
    return result


# --- samplers -------------------------------------------------------------------------------


def _group_ids(s: Sampler) -> list[Args]:
    found = s.pick("promptgroups")
    planted = s.ref_values("promptgroup_without_production", "group_id")
    out = [{"group_id": g} for g in planted]  # interrupted creation: no prompts
    out += [{"group_id": str(g["_id"])} for g in found]
    broken = None if planted else s.db.promptgroups.find_one({"productionId": None}, {"_id": 1})
    if broken is not None:
        out.append({"group_id": str(broken["_id"])})
    return [*out, {"group_id": UNKNOWN_ID}, {"group_id": "not-an-object-id"}, {"group_id": ""}]


def _groups_list_args(s: Sampler) -> list[Args]:
    planted = [
        u for h in ("sort_key_ties", "promptgroup_without_production")
        for u in s.ref_values(h, "user")[:1]
    ]  # fmt: skip
    users = list(dict.fromkeys([*planted, *(str(u["_id"]) for u in s.pick("users"))]))
    authors = [str(a) for a in s.owners("promptgroups", "author", 6)][:3]
    groups = s.pick("promptgroups", fields=("name", "category"), n=3)
    out: list[Args] = [{"user_id": u, "limit": "10"} for u in users]
    for author in authors[:2]:
        out.append({"user_id": author, "page_size": "10"})
        first = list_groups(s.db, user_id=author, limit="1")
        out.append({"user_id": author, "limit": "1"})
        if first["after"]:
            out.append({"user_id": author, "limit": "1", "cursor": first["after"]})
        out += [
            {"user_id": author, "limit": "10", "category": MY_PROMPTS},
            {"user_id": author, "limit": "10", "category": SHARED_PROMPTS},
        ]
    who = authors[0] if authors else (users[0] if users else UNKNOWN_ID)
    for group in groups:
        word = (group.get("name") or "x").split()[0]
        out += [
            {"user_id": who, "limit": "10", "name": word.lower()},
            {"user_id": who, "limit": "10", "name": word.upper()},
            {"user_id": who, "limit": "10", "category": group.get("category") or NO_CATEGORY},
        ]
    out += [
        {"user_id": who, "limit": "10", "category": NO_CATEGORY},
        {"user_id": who, "limit": "10", "category": ALL_CATEGORIES},
        {"user_id": who, "limit": "10", "name": "a.b (c"},  # escaped, no regex error
        {"user_id": who, "limit": "0"},
        {"user_id": who, "limit": "abc"},
        {"user_id": who, "page_size": "abc"},
        {"user_id": who, "limit": "10", "cursor": "null"},
        {"user_id": who, "limit": "10", "cursor": "not-a-cursor"},
        {"user_id": who, "limit": "10", "cursor": PAST_THE_END},
        {"user_id": who, "limit": "10", "cursor": BAD_DATE_CURSOR},
        {"user_id": who},  # neither limit nor pageSize: the route's 500
        {"user_id": UNKNOWN_ID, "limit": "10"},
        {"user_id": "not-an-object-id", "limit": "10"},  # no ACL ids, public groups still
    ]
    return out


def _new_groups(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("_id", "name"), n=3 if s.n is None else min(s.n, 3))
    out: list[Args] = []
    for i, user in enumerate(users):
        group: dict[str, Any] = {"name": f"Migrator Group {i}", "category": "code"}
        if i % 2:
            group.update(oneliner="A one-liner", command=f"migrator-{i}", notInSchema=True)
        out.append(
            {
                "user_id": str(user["_id"]),
                "author_name": user.get("name") or "",
                "prompt": {
                    "prompt": f"Explain {{{{topic}}}} in {i + 1} sentences.",
                    "type": "text",
                },
                "group": group,
            }
        )
    # the same fields as an interrupted creation: the upsert reuses that group
    broken = s.db.promptgroups.find_one({"productionId": None})
    if broken is not None:
        out.append(
            {
                "user_id": str(broken["author"]),
                "author_name": broken.get("authorName", ""),
                "prompt": {"prompt": "Retry after the crash.", "type": "chat"},
                "group": {"name": broken["name"], "category": broken.get("category", "")},
            }
        )
    if users:
        out += [
            {
                "user_id": "not-an-object-id",
                "author_name": "Nobody",
                "prompt": {"prompt": "x", "type": "text"},
                "group": {"name": "Invalid author"},
            },
            {
                "user_id": str(users[0]["_id"]),
                "author_name": "x",
                "prompt": {"prompt": "x", "type": "text"},
                "group": {"category": "code"},  # no name: the route's 400
            },
        ]
    return out


def _user_oid(value: Any) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def _create_footprint(db: Database, args: Args) -> dict[str, dict]:
    author = _user_oid(args["user_id"])
    if author is None:
        return {}
    return {
        "promptgroups": {"author": author},
        "prompts": {"author": author},
        "aclentries": {"principalId": author, "resourceType": "promptGroup"},
        "accessroles": {"accessRoleId": "promptGroup_owner"},
    }


READ_RULES = Rules()
# Generated ids and clocks at any depth, and the references to new documents.
WRITE_RULES = Rules(
    volatile=(
        "_id", "createdAt", "updatedAt", "groupId", "productionId", "resourceId", "grantedAt",
    )
)  # fmt: skip

OPERATIONS = [
    Operation(
        "prompts.groups_list",
        "read",
        list_groups,
        gw_list_groups,
        _groups_list_args,
        READ_RULES,
        hazards={"sort_key_ties": "user", "promptgroup_without_production": "user"},
    ),
    Operation(
        "prompts.get_group",
        "read",
        get_group,
        gw_get_group,
        _group_ids,
        READ_RULES,
        hazards={"promptgroup_without_production": "group_id"},
    ),
    Operation(
        "prompts.prompts_of_group",
        "read",
        prompts_of_group,
        gw_prompts_of_group,
        _group_ids,
        READ_RULES,
        hazards={"promptgroup_without_production": "group_id"},
    ),
    Operation(
        "prompts.create_prompt_group",
        "write",
        create_prompt_group,
        gw_create_prompt_group,
        _new_groups,
        rules=WRITE_RULES,
        footprint=_create_footprint,
    ),
]
