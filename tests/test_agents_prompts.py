"""Agents and prompts: on seeded data both paths answer alike and leave the same state, and
deliberately wrong gateways are caught (issue 3, "Tests that must pass")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database
from support import (
    Twins,
    agreeing_rows,
    assert_in_catalog,
    assert_not_vacuous,
    both_paths,
    footprint_state,
    nonempty,
    outcome,
    settled,
    write_problems,
)

from migrator.gateway import DbGateway
from migrator.services import access, agents, prompts
from migrator.services.access import gateway as access_gw
from migrator.services.agents import gateway as ag_gw
from migrator.services.agents import legacy as ag_legacy
from migrator.services.agents import shared as ag_shared
from migrator.services.base import Operation, Sampler
from migrator.services.prompts import gateway as pr_gw
from migrator.services.prompts import inputs as pr_inputs
from migrator.services.prompts import legacy as pr_legacy

OPS = [*agents.OPERATIONS, *prompts.OPERATIONS]
READS = [op for op in OPS if op.kind == "read"]
WRITES = [op for op in OPS if op.kind == "write"]
PAGES = ("data", "promptGroups")  # the list key of a page answer
UNKNOWN = "5f0000000000000000000000"
ERROR_MESSAGES = ({"message": "Error getting prompt group"}, {"message": "Error getting prompts"})


def _nonempty(value: Any) -> bool:
    return value not in ERROR_MESSAGES and nonempty(value, PAGES)


def _op(name: str) -> Operation:
    return next(op for op in OPS if op.name == name)


# The seeded data these areas read and write: twins of just these collections (with every model
# index) serve the focused write checks at a fraction of what copying all of it costs.
SLICE = dict.fromkeys(("users", "agents", "aclentries", "promptgroups", "prompts"))


def test_catalog_lists_both_areas() -> None:
    assert_in_catalog(OPS, ("agents", "prompts"))
    assert {op.name for op in READS} >= {
        "agents.get",
        "agents.list",
        "agents.count_promoted",
        "prompts.groups_list",
        "prompts.get_group",
        "prompts.prompts_of_group",
    }
    assert {op.name for op in WRITES} == {
        "agents.create",
        "agents.update",
        "prompts.create_prompt_group",
    }


# --- (1) reads: both paths agree on every sampled input --------------------------------------


@pytest.mark.parametrize("op", READS, ids=lambda op: op.name)
def test_read_paths_agree(op: Operation, seeded_db: Database) -> None:
    rows = agreeing_rows(op, seeded_db)
    if op.name == "agents.count_promoted":
        # The seeded set promotes no agent: see test_count_promoted_follows_promotions.
        assert rows[0][1] == ("value", seeded_db.agents.count_documents({"is_promoted": True}))
        return
    assert_not_vacuous(rows, _nonempty)


def test_count_promoted_follows_promotions(twin_dbs: Twins, seeded_db: Database) -> None:
    db = twin_dbs(seeded_db, only=SLICE)[0]
    agent = db.agents.find_one({}, {"id": 1, "author": 1})
    assert agent is not None
    ag_legacy.update_agent(
        db, agent_id=agent["id"], user_id=str(agent["author"]), data={"is_promoted": True}
    )
    expected = db.agents.count_documents({"is_promoted": True})
    assert expected >= 1
    assert ag_legacy.count_promoted(db) == ag_gw.gw_count_promoted(DbGateway(db)) == expected


@pytest.mark.parametrize(
    ("legacy", "gateway", "rows_key", "owner_field"),
    [
        (ag_legacy.list_agents, ag_gw.gw_list_agents, "data", "agents"),
        (pr_legacy.list_groups, pr_gw.gw_list_groups, "promptGroups", "promptgroups"),
    ],
    ids=["agents", "prompt-groups"],
)
def test_cursor_walk_lists_everything_once(
    legacy: Callable[..., Any],
    gateway: Callable[..., Any],
    rows_key: str,
    owner_field: str,
    seeded_db: Database,
) -> None:
    """Unlike the conversation list, these cursors encode the last *returned* row: walking one
    row per page yields the unpaginated list, in order, on both paths."""
    gw = DbGateway(seeded_db)
    counts = {str(a): 0 for a in seeded_db[owner_field].distinct("author")}
    user = max(
        counts, key=lambda u: seeded_db[owner_field].count_documents({"author": ObjectId(u)})
    )
    for call in (
        lambda **kw: legacy(seeded_db, user_id=user, **kw),
        lambda **kw: gateway(gw, user_id=user, **kw),
    ):
        everything = call(limit="100")[rows_key]
        walked, cursor, pages = [], None, 0
        while True:
            page = call(limit="1", cursor=cursor)
            walked += page[rows_key]
            pages += 1
            cursor = page["after"]
            if cursor is None:
                assert page["has_more"] is False
                break
        assert pages >= 2
        assert [r["_id"] for r in walked] == [r["_id"] for r in everything]


def test_agent_list_follows_the_acl(seeded_db: Database) -> None:
    """EDIT lists only what the user owns; an id that is not an ObjectId sees nothing (B's
    PermissionService swallows the cast error), on both paths."""
    gw = DbGateway(seeded_db)
    author = seeded_db.agents.find_one({}, {"author": 1})["author"]
    owned = {a["id"] for a in seeded_db.agents.find({"author": author})}
    for fn, handle in ((ag_legacy.list_agents, seeded_db), (ag_gw.gw_list_agents, gw)):
        page = fn(handle, user_id=str(author), required_permission="2")
        assert {a["id"] for a in page["data"]} == owned
        assert all(a["author"] == str(author) for a in page["data"])  # the hex string
        assert fn(handle, user_id="not-an-object-id")["data"] == []


# --- (2) writes: same answers, same resulting documents --------------------------------------


def test_write_paths_leave_the_same_state(twin_dbs: Twins) -> None:
    """Every write op: legacy on twin 0, gateway on twin 1, same sampled inputs (all drawn
    before any write); same answers and same footprint documents, volatile fields masked.
    One twin pair serves the three ops in turn (seeding one costs seconds on the embedded
    engine); their footprints do not overlap."""
    legacy_db, gateway_db = twin_dbs()
    plans = [(op, list(op.sample(Sampler(legacy_db, 3, seed=5)))) for op in WRITES]
    assert all(len(inputs) >= 3 for _, inputs in plans), [(op.name, len(i)) for op, i in plans]
    problems = [
        p for op, inputs in plans for p in write_problems(op, inputs, legacy_db, gateway_db)
    ]
    assert not problems, "\n".join(problems)
    for collection in ("agents", "aclentries", "promptgroups", "prompts"):
        assert legacy_db[collection].count_documents({}) == gateway_db[collection].count_documents(
            {}
        )


def test_create_agent_shape(twin_dbs: Twins, seeded_db: Database) -> None:
    """Defaults, the trimmed category (raw in the Mixed snapshot), strict mode at the top level
    only, and an owner entry that puts the agent in its author's EDIT list — on both paths."""
    legacy_db, gateway_db = twin_dbs(seeded_db, only=SLICE)
    user = str(legacy_db.users.find_one({}, {"_id": 1})["_id"])
    data = {"name": "Shape", "provider": "openAI", "model": "gpt-4o", "category": " rd ", "zz": 1}
    for db, create, listing, handle in (
        (legacy_db, ag_legacy.create_agent, ag_legacy.list_agents, legacy_db),
        (gateway_db, ag_gw.gw_create_agent, ag_gw.gw_list_agents, DbGateway(gateway_db)),
    ):
        doc = create(handle, user_id=user, agent_id="agent_shape000000000000000", data=data)
        assert doc["category"] == "rd" and "zz" not in doc
        assert doc["versions"][0]["category"] == " rd " and doc["versions"][0]["zz"] == 1
        assert "author" not in doc["versions"][0] and doc["author"] == ObjectId(user)
        assert doc["is_promoted"] is False and doc["tools"] == [] and doc["__v"] == 0
        acl = db.aclentries.find_one({"resourceId": doc["_id"]})
        assert acl["permBits"] == 15 and acl["principalId"] == ObjectId(user)
        assert acl["principalModel"] == "User" and acl["__v"] == 0
        page = listing(handle, user_id=user, required_permission="2")
        assert doc["id"] in [a["id"] for a in page["data"]]
        bare = create(
            handle,
            user_id=user,
            agent_id="agent_bare0000000000000000",
            data={"provider": "openAI", "model": "gpt-4o"},
        )
        assert bare["category"] == "general" and "category" not in bare["versions"][0]


def test_group_principals_and_access_roles(twin_dbs: Twins, seeded_db: Database) -> None:
    """The seeded data has neither `groups` nor `accessroles`; with them, a group share (by
    the member's idOnTheSource) opens a private agent to the member only, and the owner entry
    of a new agent carries the access role's id — on both paths alike."""
    legacy_db, gateway_db = twins = twin_dbs(seeded_db, only=SLICE)
    private = legacy_db.agents.find_one({})
    member, outsider = legacy_db.users.find({"_id": {"$ne": private["author"]}}).limit(2)
    group_id, role_id = ObjectId(), ObjectId()
    for db in twins:
        db.aclentries.delete_many({"resourceId": private["_id"], "principalType": "public"})
        db.users.update_one({"_id": member["_id"]}, {"$set": {"idOnTheSource": "ext-member"}})
        db.groups.insert_one({"_id": group_id, "name": "Team", "memberIds": ["ext-member"]})
        db.aclentries.insert_one(
            {
                "principalType": "group",
                "principalId": group_id,
                "principalModel": "Group",
                "resourceType": "agent",
                "resourceId": private["_id"],
                "permBits": 1,
            }
        )
        db.accessroles.insert_one(
            {"_id": role_id, "accessRoleId": "agent_owner", "resourceType": "agent", "permBits": 15}
        )
    gw = DbGateway(gateway_db)
    pages = {}
    for fn, handle in ((ag_legacy.list_agents, legacy_db), (ag_gw.gw_list_agents, gw)):
        mine = fn(handle, user_id=str(member["_id"]))
        assert private["id"] in [a["id"] for a in mine["data"]]
        theirs = fn(handle, user_id=str(outsider["_id"]))
        assert private["id"] not in [a["id"] for a in theirs["data"]]
        pages[fn] = mine
    assert pages[ag_legacy.list_agents] == pages[ag_gw.gw_list_agents]
    data = {"name": "Roles", "provider": "openAI", "model": "gpt-4o"}
    for db, create, handle in (
        (legacy_db, ag_legacy.create_agent, legacy_db),
        (gateway_db, ag_gw.gw_create_agent, gw),
    ):
        doc = create(
            handle, user_id=str(member["_id"]), agent_id="agent_roles00000000000000", data=data
        )
        assert db.aclentries.find_one({"resourceId": doc["_id"]})["roleId"] == role_id


def test_update_with_an_unchanged_field_is_a_duplicate_version(
    twin_dbs: Twins, seeded_db: Database
) -> None:
    """B's isDuplicateVersion: re-sending the current name writes nothing and answers the
    current agent with its version number; a real change pushes one snapshot."""
    legacy_db, gateway_db = twin_dbs(seeded_db, only=SLICE)
    agent = legacy_db.agents.find_one({})
    versions = len(agent["versions"])
    for db, update, handle in (
        (legacy_db, ag_legacy.update_agent, legacy_db),
        (gateway_db, ag_gw.gw_update_agent, DbGateway(gateway_db)),
    ):
        same = update(handle, agent_id=agent["id"], user_id=UNKNOWN, data={"name": agent["name"]})
        assert same["version"] == versions and "author" not in same
        assert db.agents.find_one({"id": agent["id"]})["updatedAt"] == agent["updatedAt"]
        changed = update(
            handle, agent_id=agent["id"], user_id=str(agent["author"]), data={"name": "Renamed"}
        )
        assert changed["name"] == "Renamed" and changed["author"] == str(agent["author"])
        assert len(changed["versions"]) == versions + 1
        assert changed["versions"][-1]["updatedBy"] == agent["author"]


def test_create_prompt_group_reuses_an_interrupted_group(
    twin_dbs: Twins, seeded_db: Database
) -> None:
    """createPromptGroup's upsert filter (`productionId: null`) matches a group whose creation
    was interrupted: the group is completed, not duplicated."""
    legacy_db, gateway_db = twin_dbs(seeded_db, only=SLICE)
    inputs = [
        a
        for a in pr_inputs.new_groups(Sampler(legacy_db, 3, seed=5))
        if a["group"].get("name")
        and legacy_db.promptgroups.find_one({"name": a["group"]["name"], "productionId": None})
    ]
    assert inputs, "the seeded data has no interrupted prompt group"
    args = inputs[0]
    broken = legacy_db.promptgroups.find_one({"name": args["group"]["name"], "productionId": None})
    for db, create, handle in (
        (legacy_db, pr_legacy.create_prompt_group, legacy_db),
        (gateway_db, pr_gw.gw_create_prompt_group, DbGateway(gateway_db)),
    ):
        groups_before = db.promptgroups.count_documents({})
        result = create(handle, **args)
        assert result["group"]["_id"] == broken["_id"]
        assert db.promptgroups.count_documents({}) == groups_before
        group = db.promptgroups.find_one({"_id": broken["_id"]})
        prompt = db.prompts.find_one({"_id": group["productionId"]})
        assert prompt["groupId"] == broken["_id"] and prompt["prompt"] == args["prompt"]["prompt"]
        assert group["updatedAt"] > broken["updatedAt"]
        assert "__v" not in result["group"] and "__v" not in result["prompt"]


# --- (3) wrong gateways are caught -----------------------------------------------------------


def _wrong_agents_without_acl(gw: DbGateway, **kw: Any) -> dict[str, Any]:
    """The ACL step forgotten: every agent is listed, whatever the caller may see."""
    repo = gw.get_repository("Agent")
    everyone = [a["_id"] for a in repo.find({}, select={"_id": 1})]
    page = repo.get_list_agents_by_access(
        everyone,
        ag_shared.agent_list_filter(kw.get("category"), kw.get("search"), kw.get("promoted")),
        access.normalize_limit(kw.get("limit")),
        kw.get("cursor"),
    )
    ag_shared.mark_public(page["data"], access_gw.gw_public(gw, "agent"))
    return page


def _wrong_prompts_ascending(gw: DbGateway, *, group_id: Any) -> Any:
    """Oldest first instead of B's `sort({createdAt: -1})`."""
    try:
        return gw.get_repository("Prompt").find({"groupId": group_id}, sort={"createdAt": 1})
    except Exception:
        return {"message": "Error getting prompts"}


def _wrong_groups_case_sensitive(gw: DbGateway, **kw: Any) -> dict[str, Any]:
    """The name filter without the `i` flag."""
    answer = pr_gw.gw_list_groups(gw, **{**kw, "name": None})
    if kw.get("name"):
        needle = kw["name"]
        answer["promptGroups"] = [g for g in answer["promptGroups"] if needle in g["name"]]
    return answer


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("agents.list", _wrong_agents_without_acl),
        ("prompts.prompts_of_group", _wrong_prompts_ascending),
        ("prompts.groups_list", _wrong_groups_case_sensitive),
    ],
    ids=["agents-no-acl", "prompts-ascending", "groups-case-sensitive"],
)
def test_wrong_gateway_read_disagrees(name: str, wrong: Any, seeded_db: Database) -> None:
    op = dataclasses.replace(_op(name), gateway=wrong)
    rows = both_paths(op, seeded_db, n=8)
    differ = [args for args, leg, gw in rows if leg != gw]
    assert differ, f"the wrong gateway of {name} agreed on all {len(rows)} inputs"
    assert all(leg == gw for _, leg, gw in both_paths(_op(name), seeded_db, n=8))


def _wrong_update_without_version(gw: DbGateway, *, agent_id: str, user_id: str, data: dict) -> Any:
    """updateAgent without the version snapshot: the history stops growing."""
    update = ag_shared.update_payload(data)
    repo = gw.get_repository("Agent")
    if repo.get_agent({"id": agent_id}) is None:
        return None
    return ag_shared.present_author(repo.find_one_and_update({"id": agent_id}, update), user_id)


def test_wrong_gateway_write_disagrees(twin_dbs: Twins, seeded_db: Database) -> None:
    legacy_db, gateway_db = twin_dbs(seeded_db, only=SLICE)
    op = _op("agents.update")
    inputs = [a for a in op.sample(Sampler(legacy_db, 3, seed=5)) if "notInSchema" in a["data"]]
    assert inputs
    footprint = op.footprint(legacy_db, inputs[0])
    leg = outcome(op.legacy, legacy_db, **inputs[0])
    got = outcome(_wrong_update_without_version, DbGateway(gateway_db), **inputs[0])
    assert settled(leg, op.rules) != settled(got, op.rules)
    assert footprint_state(legacy_db, footprint, op.rules) != footprint_state(
        gateway_db, footprint, op.rules
    )
