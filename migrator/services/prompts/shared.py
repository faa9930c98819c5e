"""What the prompts route does around the data access, shared by both paths
(``api/server/routes/prompts.js`` and its ``@librechat/api`` helpers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bson import ObjectId
from bson.regex import Regex

from migrator.errors import MigratorError
from migrator.services.js import js_parse_int, js_string, js_truthy

# librechat-data-provider SystemCategories
MY_PROMPTS = "sys__my__prompts__sys"
NO_CATEGORY = "sys__no__category__sys"
SHARED_PROMPTS = "sys__shared__prompts__sys"
ALL_CATEGORIES = "sys__all__sys"  # not special-cased by the filter: a literal category


# What the model functions' catch-all answers instead of throwing.
GET_GROUP_ERROR = {"message": "Error getting prompt group"}
GET_PROMPTS_ERROR = {"message": "Error getting prompts"}


class PromptGroupSaveError(RuntimeError):
    """``createPromptGroup`` wraps every failure in ``Error('Error saving prompt group')``."""


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


@contextmanager
def saving_group() -> Iterator[None]:
    """``createPromptGroup``'s catch: every failure becomes ``PromptGroupSaveError`` (the
    tool's own refusals excepted)."""
    try:
        yield
    except MigratorError:
        raise
    except Exception as exc:
        raise PromptGroupSaveError("Error saving prompt group") from exc


def created(prompt: dict, group: dict, grant_owner: Callable[[Any], None]) -> dict[str, Any]:
    """The route after ``createPromptGroup``: the owner ACL entry on the group (granted once the
    prompt has an ``_id`` and a ``groupId``), and the answer ``{prompt, group: {...group,
    productionPrompt: {prompt}}}``."""
    result = {
        "prompt": prompt,
        "group": {**group, "productionPrompt": {"prompt": prompt.get("prompt")}},
    }
    if prompt.get("_id") and prompt.get("groupId"):
        grant_owner(prompt["groupId"])
    return result
