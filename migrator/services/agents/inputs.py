"""Agents' inputs: the arguments each operation is tried with, drawn from the source
database, and the documents a write input may touch (its footprint)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.database import Database

from migrator.services.access import BAD_DATE_CURSOR, PAST_THE_END
from migrator.services.agents.legacy import list_agents
from migrator.services.base import UNKNOWN_ID, Args, Sampler, footprint_oid

AGENT_HAZARDS = ("authorless_agents", "sort_key_ties")


def agent_ids(s: Sampler) -> list[Args]:
    planted = [{"id": i} for h in AGENT_HAZARDS for i in s.ref_values(h, "agent_id")[:1]]
    found = [*planted, *s.pick("agents", fields=("id",))]
    out: list[Args] = [{"agent_id": a["id"]} for a in found if a.get("id")]
    if out:  # ids are case-sensitive nanoids
        out.append({"agent_id": out[0]["agent_id"].swapcase()})
    return [*out, {"agent_id": ""}, {"agent_id": "agent_doesNotExist0000000000"}]


def list_args(s: Sampler) -> list[Args]:
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


def new_agents(s: Sampler) -> list[Args]:
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


def agent_updates(s: Sampler) -> list[Args]:
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


def create_footprint(db: Database, args: Args) -> dict[str, dict]:
    out: dict[str, dict] = {
        "agents": {"id": args["agent_id"]},
        "accessroles": {"accessRoleId": "agent_owner"},
    }
    user = footprint_oid(args["user_id"])
    if isinstance(user, ObjectId):
        out["aclentries"] = {"principalId": user, "resourceType": "agent"}
    return out
