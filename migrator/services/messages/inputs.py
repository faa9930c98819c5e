"""Messages' inputs: the arguments each operation is tried with, drawn from the source
database (planted hazards first), and the documents a write input may touch (its footprint).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo.database import Database

from migrator.services.base import UNKNOWN_ID, UNKNOWN_UUID, Args, Sampler
from migrator.services.messages.legacy import list_page


def _conversations(s: Sampler, n: int | None = -1) -> list[dict]:
    return s.pick("conversations", fields=("conversationId", "user"), n=n)


# Planted hazards whose refs carry a message's conversation (migrator.seed.hazards).
ODD_HAZARDS = ("messages_without_timestamps", "string_created_at", "orphan_messages")
THREAD_HAZARDS = (
    *ODD_HAZARDS, "long_conversation", "temporary_conversations", "legacy_message_plugin",
    "messages_updated_later",
)  # fmt: skip


def _odd_conversation_ids(s: Sampler) -> list[str]:
    """Conversation ids of the §8 hazards: imported rows without createdAt, raw string dates,
    orphan messages — from the seed's manifest, else a few random probes."""
    out = [cid for h in ODD_HAZARDS for cid in s.ref_values(h, "conversationId")[:1]]
    if out:
        return out
    for query in ({"createdAt": {"$exists": False}}, {"createdAt": {"$type": "string"}}):
        out += [m["conversationId"] for m in s.probe("messages", query, ("conversationId",))]
    return out + s.orphans("messages", "conversationId", "conversations")


def _planted_threads(s: Sampler) -> list[dict]:
    return [
        {"conversationId": r["conversationId"], "user": r.get("user")}
        for h in THREAD_HAZARDS
        for r in s.hazard_refs(h)[:1]
        if r.get("conversationId")
    ]


def by_conversation_args(s: Sampler) -> list[Args]:
    planted = [t["conversationId"] for t in _planted_threads(s)]
    ids = [*planted, *(c["conversationId"] for c in _conversations(s))]
    ids = list(dict.fromkeys([*ids, *_odd_conversation_ids(s)]))
    return [{"conversation_id": cid} for cid in [*ids, UNKNOWN_UUID, ""]]


def _owned(s: Sampler, cid: str) -> str | None:
    doc = s.db.messages.find_one({"conversationId": cid}, {"user": 1})
    return doc.get("user") if doc else None


def _long_threads(s: Sampler, k: int = 2) -> list[tuple[str, str]]:
    """(conversationId, user) of long conversations: the planted one, then the threads of
    random messages (drawn in proportion to their length)."""
    planted = [(r["conversationId"], r["user"]) for r in s.hazard_refs("long_conversation")]
    drawn = s.pick("messages", {"createdAt": {"$type": "date"}}, ("conversationId", "user"), 6)
    pairs = [*planted, *((m["conversationId"], m.get("user")) for m in drawn)]
    return list(dict.fromkeys(pairs))[:k]


def page_args(s: Sampler) -> list[Args]:
    convos = _conversations(s)
    out: list[Args] = [
        {"conversation_id": c["conversationId"], "user": c["user"]}
        for c in [*_planted_threads(s), *convos]
    ]
    # Long conversations paged 3 at a time with the real next cursor of their first page.
    for cid, user in _long_threads(s):
        base = {"conversation_id": cid, "user": user, "page_size": "3"}
        for variant in (
            {},
            {"sort_by": "updatedAt", "sort_direction": "asc"},
            {"sort_by": "endpoint"},
        ):
            first = list_page(s.db, **base, **variant)
            out.append({**base, **variant})
            if first["nextCursor"] is not None:
                out.append({**base, **variant, "cursor": first["nextCursor"]})
    for cid in _odd_conversation_ids(s):
        owner = _owned(s, cid)
        out.append({"conversation_id": cid, "user": owner, "page_size": 1})
        out.append({"conversation_id": cid, "user": owner, "cursor": "2030-01-01T00:00:00.000Z"})
    if convos:  # someone else's conversation: the `user` filter must hide it
        other = s.db.conversations.find_one(
            {"user": {"$ne": convos[0]["user"]}}, {"conversationId": 1}, sort=[("_id", 1)]
        )
        if other is not None:
            out.append({"conversation_id": other["conversationId"], "user": convos[0]["user"]})
    if convos:
        first = {"conversation_id": convos[0]["conversationId"], "user": convos[0]["user"]}
        out += [
            {**first, "cursor": "1970-01-01T00:00:00.000Z"},  # a cursor past the end
            {**first, "cursor": "not-a-date"},  # Invalid Date: CastError
            {**first, "sort_by": "bogus", "sort_direction": "sideways", "page_size": "abc"},
            {**first, "user": ObjectId(first["user"])},  # ObjectId cast to the String path
        ]
    return [*out, {"conversation_id": UNKNOWN_UUID, "user": UNKNOWN_ID}]


def get_one_args(s: Sampler) -> list[Args]:
    planted = [
        r for h in ("legacy_message_plugin", "messages_without_timestamps", "string_created_at")
        for r in s.hazard_refs(h)[:1] if r.get("messageId")
    ]  # fmt: skip
    found = [*planted, *s.pick("messages", fields=("conversationId", "messageId", "user"))]
    out = [
        {"conversation_id": m["conversationId"], "message_id": m["messageId"], "user": m["user"]}
        for m in found
    ]
    if found:
        first = out[0]
        out += [
            {**first, "user": UNKNOWN_ID},  # another user's message
            {**first, "conversation_id": UNKNOWN_UUID},  # right message, wrong conversation
            {**first, "message_id": first["message_id"].upper()},  # ids are case-sensitive
        ]
    return out


def count_conversation_args(s: Sampler) -> list[Args]:
    return by_conversation_args(s)


def count_user_args(s: Sampler) -> list[Args]:
    users = [str(u["_id"]) for u in s.pick("users")]
    out: list[Args] = [{"user": u} for u in users]
    if users:
        out.append({"user": ObjectId(users[0])})  # user-stats passes the ObjectId
        out.append({"user": users[0].upper()})  # hex case matters on a String path
    return [*out, {"user": UNKNOWN_ID}, {"user": ""}]


def save_args(s: Sampler) -> list[Args]:
    found = s.pick(
        "messages",
        {"createdAt": {"$type": "date"}},
        ("conversationId", "messageId", "user", "parentMessageId", "endpoint", "sender"),
    )
    out: list[Args] = []
    for i, m in enumerate(found):
        base = {k: m[k] for k in ("conversationId", "messageId", "parentMessageId") if k in m}
        if i % 3 == 0:  # the response message of the same turn, new
            msg = {
                **base,
                "messageId": s.new_uuid(),
                "parentMessageId": m["messageId"],
                "sender": "GPT-4o",
                "text": "A new answer.",
                "isCreatedByUser": False,
                "model": "gpt-4o",
                "endpoint": m.get("endpoint"),
                "tokenCount": 42,
                "unfinished": False,
                "error": False,
                "clientTimestamp": "not in the schema",
            }
        elif i % 3 == 1:  # the final save of a streamed response
            msg = {
                **base,
                "text": "Edited text",
                "tokenCount": float("nan"),
                "finish_reason": "stop",
            }
        else:  # an edit that renames the message id
            msg = {**base, "newMessageId": s.new_uuid(), "text": "renamed", "sender": "User"}
        out.append({"user": m["user"], "message": msg, "is_temporary": i % 4 == 3})
    if found:
        m = found[0]
        out += [
            # the id belongs to another user: E11000 on messageId_1 ⇒ params echoed back
            {"user": UNKNOWN_ID, "message": {"conversationId": m["conversationId"],
                                               "messageId": m["messageId"], "text": "x"}},
            # conversationId 'new' (not a UUID) is skipped
            {"user": m["user"], "message": {"conversationId": "new", "messageId": s.new_uuid()}},
            {"user": m["user"], "message": {"conversationId": m["conversationId"].upper(),
                                            "messageId": s.new_uuid(), "tokenCount": None,
                                            "text": "upper-case conversation id"}},
        ]  # fmt: skip
    return out


def update_text_args(s: Sampler) -> list[Args]:
    found = s.pick("messages", fields=("messageId", "user"))
    out: list[Args] = [
        {"user": m["user"], "message_id": m["messageId"], "text": f"edited {i}"}
        for i, m in enumerate(found)
    ]
    if found:
        out.append({"user": UNKNOWN_ID, "message_id": found[0]["messageId"], "text": "nope"})
    return [*out, {"user": UNKNOWN_ID, "message_id": UNKNOWN_UUID, "text": ""}]


def delete_since_args(s: Sampler) -> list[Args]:
    found = s.pick("messages", fields=("messageId", "user", "conversationId"))
    odd = [
        r for h in ("messages_without_timestamps", "string_created_at")
        for r in s.hazard_refs(h)[:1] if r.get("messageId")
    ] or [
        m
        for query in ({"createdAt": {"$exists": False}}, {"createdAt": {"$type": "string"}})
        for m in s.probe("messages", query, ("messageId", "user", "conversationId"))
    ]  # fmt: skip
    out: list[Args] = [
        {"user": m["user"], "message_id": m["messageId"], "conversation_id": m["conversationId"]}
        for m in [*found, *odd]
    ]
    if found:
        out.append({**out[0], "user": UNKNOWN_ID})
    return [*out, {"user": UNKNOWN_ID, "message_id": UNKNOWN_UUID, "conversation_id": ""}]


def bulk_save_args(s: Sampler) -> list[Args]:
    out: list[Args] = []
    for i, convo in enumerate(_conversations(s, n=2 if s.n is None else min(s.n, 3))):
        copies = list(
            s.db.messages.find({"conversationId": convo["conversationId"]}, {"_id": 0})
            .sort("createdAt", 1)
            .limit(4)
        )
        if not copies:
            continue
        fork = s.new_uuid()  # forkConversation: the thread copied under new ids
        forked = [
            {**m, "messageId": s.new_uuid(), "conversationId": fork, "importedFrom": "fork"}
            for m in copies
        ]
        # plus one existing message re-saved (an update, not an insert)
        forked.append({**copies[0], "text": "re-imported", "__v": 0})
        out.append({"messages": forked, "override_timestamp": i % 2 == 1})
    return [*out, {"messages": []}]


def footprint_ids(args: Args) -> dict[str, dict]:
    msg = args.get("message") or {}
    ids = [msg.get("messageId"), msg.get("newMessageId")]
    return {"messages": {"messageId": {"$in": [i for i in ids if i is not None]}}}


def bulk_footprint(db: Database, args: Args) -> dict[str, dict]:
    ids = [m.get("messageId") for m in args["messages"]]
    return {"messages": {"messageId": {"$in": ids}}}
