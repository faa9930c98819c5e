"""Prompts' inputs: the arguments each operation is tried with, drawn from the source
database, and the documents a write input may touch (its footprint)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.database import Database

from migrator.services.access import BAD_DATE_CURSOR, PAST_THE_END
from migrator.services.base import UNKNOWN_ID, Args, Sampler, footprint_oid
from migrator.services.prompts.legacy import list_groups
from migrator.services.prompts.shared import ALL_CATEGORIES, MY_PROMPTS, NO_CATEGORY, SHARED_PROMPTS


def group_ids(s: Sampler) -> list[Args]:
    found = s.pick("promptgroups")
    planted = s.ref_values("promptgroup_without_production", "group_id")
    out = [{"group_id": g} for g in planted]  # interrupted creation: no prompts
    out += [{"group_id": str(g["_id"])} for g in found]
    broken = None if planted else s.db.promptgroups.find_one({"productionId": None}, {"_id": 1})
    if broken is not None:
        out.append({"group_id": str(broken["_id"])})
    return [*out, {"group_id": UNKNOWN_ID}, {"group_id": "not-an-object-id"}, {"group_id": ""}]


def groups_list_args(s: Sampler) -> list[Args]:
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


def new_groups(s: Sampler) -> list[Args]:
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


def create_footprint(db: Database, args: Args) -> dict[str, dict]:
    author = footprint_oid(args["user_id"])
    if not isinstance(author, ObjectId):
        return {}
    return {
        "promptgroups": {"author": author},
        "prompts": {"author": author},
        "aclentries": {"principalId": author, "resourceType": "promptGroup"},
        "accessroles": {"accessRoleId": "promptGroup_owner"},
    }
