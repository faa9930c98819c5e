"""Conversations and messages: on seeded data both paths answer alike and leave the same state,
and deliberately wrong gateways are caught (issue 3, "Tests that must pass").

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
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
from migrator.services import catalog, conversations, messages
from migrator.services.base import UNKNOWN_ID, Operation, Sampler
from migrator.services.conversations import gateway as conv_gw
from migrator.services.conversations import inputs as conv_inputs
from migrator.services.conversations import legacy as conv_legacy
from migrator.services.conversations import shared as conv_shared
from migrator.services.js import iso
from migrator.services.messages import gateway as msg_gw
from migrator.services.messages import legacy as msg_legacy
from migrator.services.messages import shared as msg_shared

OPS = [*conversations.OPERATIONS, *messages.OPERATIONS]
READS = [op for op in OPS if op.kind == "read"]
WRITES = [op for op in OPS if op.kind == "write"]
PAGES = ("conversations", "messages")  # the list key of a page answer


def _nonempty(value: Any) -> bool:
    return nonempty(value, PAGES)


def test_catalog_lists_both_areas() -> None:
    assert_in_catalog(OPS, ("conversations", "messages"))
    assert {op.name for op in WRITES} >= {
        "conversations.save",
        "conversations.archive",
        "conversations.rename",
        "conversations.delete",
        "conversations.bulk_save",
        "messages.save",
        "messages.update_text",
        "messages.delete_since",
        "messages.bulk_save",
    }


# --- (1) reads: both paths agree on every sampled input --------------------------------------


@pytest.mark.parametrize("op", READS, ids=lambda op: op.name)
def test_read_paths_agree(op: Operation, seeded_db: Database) -> None:
    assert_not_vacuous(agreeing_rows(op, seeded_db, at_least=5), _nonempty)


def test_list_page_reproduces_the_popped_row_cursor(seeded_db: Database) -> None:
    """B's sidebar skips the popped row: walking the pages lists every conversation but one
    per full page, on both paths alike."""
    user = conv_inputs.heavy_users(Sampler(seeded_db, 1))[0]
    gw = DbGateway(seeded_db)
    seen: dict[str, list[str]] = {"legacy": [], "gateway": []}
    cursors = 0
    for name, call in (
        ("legacy", lambda c: conv_legacy.list_page(seeded_db, user=user, cursor=c, limit=5)),
        ("gateway", lambda c: conv_gw.gw_list_page(gw, user=user, cursor=c, limit=5)),
    ):
        cursor, cursors = None, 0
        while True:
            page = call(cursor)
            seen[name] += [c["conversationId"] for c in page["conversations"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
            cursors += 1
        assert cursors >= 2
    visible = seeded_db.conversations.count_documents(
        {"user": user, "isArchived": {"$ne": True}, "expiredAt": None}
    )
    assert seen["legacy"] == seen["gateway"]
    assert len(seen["legacy"]) == len(set(seen["legacy"]))
    assert visible - len(seen["legacy"]) == cursors  # each next cursor skipped its popped row


def test_invalid_cursor_is_an_error_not_a_match(seeded_db: Database) -> None:
    """An unparseable cursor is Mongoose's CastError (§1 #4) on both paths, not a string
    compared with string dates."""
    gw = DbGateway(seeded_db)
    user = conv_inputs.heavy_users(Sampler(seeded_db, 1))[0]
    assert conv_legacy.list_page(seeded_db, user=user, cursor="soon") == conv_shared.LIST_ERROR
    assert conv_gw.gw_list_page(gw, user=user, cursor="soon") == conv_shared.LIST_ERROR
    odd = seeded_db.messages.find_one({"createdAt": {"$type": "string"}})
    assert odd is not None
    args = {"conversation_id": odd["conversationId"], "user": odd["user"], "cursor": "zzz"}
    assert outcome(msg_legacy.list_page, seeded_db, **args) == ("error", "CastError")
    assert outcome(msg_gw.gw_list_page, gw, **args) == ("error", "CastError")


# --- (2) writes: same answers, same resulting documents --------------------------------------


def _check_write(op: Operation, legacy_db: Database, gateway_db: Database) -> list[str]:
    """Run every sampled input of a write on both twins; the problems found (none = pass)."""
    inputs = list(op.sample(Sampler(legacy_db, 5, seed=5)))  # drawn before any write
    if len(inputs) < 2 or op.footprint is None:
        return [f"{op.name}: {len(inputs)} inputs, footprint {op.footprint}"]
    problems = write_problems(op, inputs, legacy_db, gateway_db)
    for collection in ("conversations", "messages"):
        counts = [d[collection].count_documents({}) for d in (legacy_db, gateway_db)]
        if counts[0] != counts[1]:
            problems.append(f"{op.name}: {collection} counts {counts}")
    return problems


@pytest.mark.parametrize("area", ["conversations", "messages"])
def test_write_paths_leave_the_same_state(area: str, twin_dbs: Twins) -> None:
    """Each write of the area, in catalog order, on one pair of twins (seeding twins costs
    ~8 s on the embedded engine): legacy on the first, gateway on the second."""
    legacy_db, gateway_db = twin_dbs()
    ops = [op for op in WRITES if op.area == area]
    assert len(ops) >= 4
    problems = [p for op in ops for p in _check_write(op, legacy_db, gateway_db)]
    assert not problems, "\n".join(problems)


def _a_few_threads(seeded_db: Database) -> dict[str, dict]:
    """What small twins hold: a few conversations with their messages and one orphan thread
    (messages without a conversation), copied from the seeded database: cheap extra checks."""
    convos = list(seeded_db.conversations.find({}, {"conversationId": 1}).sort("_id", 1).limit(6))
    known = seeded_db.conversations.distinct("conversationId")
    orphan = seeded_db.messages.find_one({"conversationId": {"$nin": known}})
    assert orphan is not None
    ids = [c["conversationId"] for c in convos] + [orphan["conversationId"]]
    return {
        "conversations": {"_id": {"$in": [c["_id"] for c in convos]}},
        "messages": {"conversationId": {"$in": ids}},
    }


def test_save_convo_upsert_shape(twin_dbs: Twins, seeded_db: Database) -> None:
    """A fresh conversation gets the schema defaults, `__v`, timestamps, its message ids and
    `expiredAt: null`; unknown keys are dropped — through either path."""
    legacy_db, gateway_db = twin_dbs(seeded_db, only=_a_few_threads(seeded_db))
    orphan = legacy_db.messages.find_one(
        {"conversationId": {"$nin": legacy_db.conversations.distinct("conversationId")}}
    )
    assert orphan is not None
    args = {
        "user": orphan["user"],
        "conversation": {"conversationId": orphan["conversationId"], "bogus": 1},
    }
    leg = conv_legacy.save(legacy_db, **args)
    got = conv_gw.gw_save(DbGateway(gateway_db), **args)
    assert settled(leg, conversations.WRITE_RULES) == settled(got, conversations.WRITE_RULES)
    expected_ids = [
        m["_id"]
        for m in legacy_db.messages.find({"conversationId": orphan["conversationId"]}).sort(
            "createdAt", 1
        )
    ]
    assert leg["messages"] == expected_ids and expected_ids
    assert leg["title"] == "New Chat" and leg["isArchived"] is False and leg["tags"] == []
    assert leg["__v"] == 0 and leg["expiredAt"] is None and "bogus" not in leg
    assert isinstance(leg["createdAt"], datetime) and leg["createdAt"] == leg["updatedAt"]


def test_bulk_save_keeps_a_given_version_key(twin_dbs: Twins, seeded_db: Database) -> None:
    """A copied document carrying `__v` upserts without a `$setOnInsert.__v` conflict."""
    legacy_db, gateway_db = twins = twin_dbs(seeded_db, only=_a_few_threads(seeded_db))
    copy = legacy_db.messages.find_one({}, {"_id": 0})
    assert copy is not None and "__v" in copy
    fresh = {**copy, "messageId": "11111111-2222-4333-8444-555555555555", "__v": 3}
    leg = msg_legacy.bulk_save(legacy_db, messages=[fresh])
    got = msg_gw.gw_bulk_save(DbGateway(gateway_db), messages=[fresh])
    assert leg["upsertedCount"] == got["upsertedCount"] == 1
    for db in twins:
        stored = db.messages.find_one({"messageId": fresh["messageId"]})
        assert stored is not None and stored["__v"] == 3


# --- (3) wrong gateways are caught -----------------------------------------------------------


def _wrong_convo_cursor(gw: DbGateway, **kw: Any) -> dict[str, Any]:
    """N-style "fix": the cursor is the last *returned* row's updatedAt (PR #11242)."""
    rows, extra = gw.get_repository("Conversation").get_convos_by_cursor(kw.pop("user"), **kw)
    cursor = rows[-1]["updatedAt"].isoformat(timespec="milliseconds") + "Z" if extra else None
    return {"conversations": rows, "nextCursor": cursor}


def _wrong_convo_get_no_owner(gw: DbGateway, *, user: Any, conversation_id: str) -> Any:
    """The owner filter forgotten: anyone's conversation by id."""
    return gw.get_repository("Conversation").find_by_conversation_id(conversation_id)


def _wrong_messages_no_owner(
    gw: DbGateway,
    *,
    conversation_id: str,
    user: Any,
    cursor: Any = None,
    sort_by: str = "createdAt",
    sort_direction: str = "desc",
    page_size: Any = None,
) -> dict[str, Any]:
    """The paged list exactly as the real gateway, but without the `user` filter."""
    field = sort_by if sort_by in msg_shared.SORT_FIELDS else "createdAt"
    ascending = sort_direction == "asc"
    size = msg_gw._leading_int(page_size) or msg_shared.PAGE_SIZE
    query: dict[str, Any] = {"conversationId": conversation_id}
    if cursor:
        query[field] = {"$gt" if ascending else "$lt": cursor}
    repo = gw.get_repository("Message")
    rows = repo.find(query, sort={field: 1 if ascending else -1}, limit=size + 1)
    nxt = rows.pop().get(field) if len(rows) > size else None
    if isinstance(nxt, datetime):
        nxt = iso(nxt)
    return {"messages": rows, "nextCursor": nxt}


def _wrong_by_conversation_desc(gw: DbGateway, *, conversation_id: str) -> list[dict]:
    """Newest first instead of createdAt ascending."""
    return gw.get_repository("Message").find(
        {"conversationId": conversation_id},
        select={"_id": 0, "__v": 0, "user": 0},
        sort={"createdAt": -1},
    )


def _op(name: str) -> Operation:
    return catalog()[name]


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("conversations.list_page", _wrong_convo_cursor),
        ("conversations.get", _wrong_convo_get_no_owner),
        ("messages.list_page", _wrong_messages_no_owner),
        ("messages.by_conversation", _wrong_by_conversation_desc),
    ],
    ids=["convo-cursor-last-row", "convo-get-no-owner", "messages-no-owner", "messages-desc"],
)
def test_wrong_gateway_read_disagrees(name: str, wrong: Any, seeded_db: Database) -> None:
    op = dataclasses.replace(_op(name), gateway=wrong)
    rows = both_paths(op, seeded_db, n=8)
    differ = [(args, leg) for args, leg, gw in rows if leg != gw]
    assert differ, f"the wrong gateway of {name} agreed on all {len(rows)} inputs"
    if wrong is _wrong_messages_no_owner:  # only the owner check can tell them apart
        assert all(leg == ("value", {"messages": [], "nextCursor": None}) for _, leg in differ)


def _wrong_save_message_no_owner(
    gw: DbGateway, *, user: str, message: dict, is_temporary: bool = False
) -> Any:
    """The upsert keyed by messageId alone: another user's message gets overwritten."""
    if not msg_legacy.ZOD_UUID.fullmatch(str(message.get("conversationId"))):
        return None
    data = {k: v for k, v in message.items() if k != "newMessageId"}
    data.update(user=user, expiredAt=None)
    data["messageId"] = message.get("newMessageId") or message.get("messageId")
    if isinstance(data.get("tokenCount"), float) and data["tokenCount"] != data["tokenCount"]:
        data["tokenCount"] = 0
    return gw.get_repository("Message").find_one_and_update(
        {"messageId": message.get("messageId")}, data, upsert=True
    )


def test_wrong_gateway_write_disagrees(twin_dbs: Twins, seeded_db: Database) -> None:
    legacy_db, gateway_db = twin_dbs(seeded_db, only=_a_few_threads(seeded_db))
    op = _op("messages.save")
    inputs = list(op.sample(Sampler(legacy_db, 5, seed=5)))
    hijack = [a for a in inputs if a["user"] == UNKNOWN_ID]
    assert hijack
    footprint = op.footprint(legacy_db, hijack[0])
    leg = outcome(op.legacy, legacy_db, **hijack[0])
    got = outcome(_wrong_save_message_no_owner, DbGateway(gateway_db), **hijack[0])
    answers_differ = settled(leg, op.rules) != settled(got, op.rules)
    state_differs = footprint_state(legacy_db, footprint, op.rules) != footprint_state(
        gateway_db, footprint, op.rules
    )
    assert answers_differ and state_differs
