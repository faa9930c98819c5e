"""Conversations' inputs: the arguments each operation is tried with, drawn from the source
database (planted hazards first), and the documents a write input may touch (its footprint).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.database import Database

from migrator import model
from migrator.services.base import UNKNOWN_ID, UNKNOWN_UUID, Args, Sampler
from migrator.services.conversations.legacy import list_page
from migrator.services.mongoose import string_owner

# Hazards whose refs carry a conversation's owner and id (manifest, migrator.seed.hazards).
CONVERSATION_HAZARDS = (
    "temporary_conversations",
    "archived_conversations",
    "imported_conversation_without_expiredAt",
    "legacy_conversation_agentOptions",
    "conversations_updated_later",
)


def heavy_users(s: Sampler, k: int = 2) -> list[str]:
    """Users with many conversations (a second sidebar page): the planted one, then owners of
    random conversations (drawn in proportion to how many they own)."""
    planted = s.ref_values("many_conversations", "user")
    return list(dict.fromkeys([*planted, *s.owners("conversations", "user", 8)]))[:k]


def _someone_elses(s: Sampler, user: Any) -> dict | None:
    """A conversation that ``user`` does not own (the first by _id), or None."""
    return s.db.conversations.find_one(
        {"user": {"$ne": user}}, {"conversationId": 1, "user": 1}, sort=[("_id", 1)]
    )


def list_args(s: Sampler) -> list[Args]:
    planted = [u for h in CONVERSATION_HAZARDS for u in s.ref_values(h, "user")]
    users = [str(u["_id"]) for u in s.pick("users")]
    out: list[Args] = [{"user": u} for u in dict.fromkeys([*planted, *users])]
    for user in s.ref_values("archived_conversations", "user"):
        out.append({"user": user, "is_archived": True})
    for user in heavy_users(s):
        first = list_page(s.db, user=user)
        out.append({"user": user})
        if first.get("nextCursor"):  # the real cursor of the first page
            out.append({"user": user, "cursor": first["nextCursor"]})
        out.append({"user": user, "order": "asc"})
        out.append({"user": user, "limit": 4})
        small = list_page(s.db, user=user, limit=4)
        if small.get("nextCursor"):
            out.append({"user": user, "limit": 4, "cursor": small["nextCursor"]})
    for c in s.pick("conversations", {"isArchived": True}, ("user",), 2):
        out.append({"user": c["user"], "is_archived": True})
    for c in s.pick("conversations", {"tags.0": {"$exists": True}}, ("user", "tags"), 2):
        out.append({"user": c["user"], "tags": c["tags"][:1]})
        out.append({"user": c["user"], "tags": c["tags"][0]})  # not an array: ignored
    if users:
        out += [
            {"user": ObjectId(users[0])},  # cast to the String path's hex
            {"user": users[0], "cursor": "1970-01-01T00:00:00.000Z"},  # past the end
            {"user": users[0], "cursor": "not-a-date"},  # Invalid Date ⇒ error answer
            {"user": users[0], "tags": []},
            {"user": users[0], "tags": ["no-such-tag"]},
        ]
    return [*out, {"user": UNKNOWN_ID}, {"user": ""}]


def _planted_conversations(s: Sampler) -> list[dict]:
    return [
        {"user": r["user"], "conversationId": r["conversationId"]}
        for h in CONVERSATION_HAZARDS
        for r in s.hazard_refs(h)
        if "conversationId" in r
    ]


def convo_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"]}
        for c in [*_planted_conversations(s), *found]
    ]
    other = _someone_elses(s, found[0]["user"]) if found else None
    if other is not None:  # someone else's conversation: the owner filter must hide it
        out.append({"user": found[0]["user"], "conversation_id": other["conversationId"]})
    if found:
        out.append(
            {"user": ObjectId(found[0]["user"]), "conversation_id": out[0]["conversation_id"]}
        )
        out.append({"user": found[0]["user"], "conversation_id": out[0]["conversation_id"].upper()})
    return [*out, {"user": UNKNOWN_ID, "conversation_id": UNKNOWN_UUID}]


def conversation_ids(s: Sampler) -> list[Args]:
    found = [*_planted_conversations(s), *s.pick("conversations", fields=("conversationId",))]
    with_files = s.pick("conversations", {"files.0": {"$exists": True}}, ("conversationId",), 2)
    ids = [c["conversationId"] for c in [*found, *with_files]]
    return [{"conversation_id": cid} for cid in [*ids, UNKNOWN_UUID, ""]]


def user_args(s: Sampler) -> list[Args]:
    planted = s.ref_values("many_conversations", "user")
    users = list(dict.fromkeys([*planted, *(str(u["_id"]) for u in s.pick("users"))]))
    out: list[Args] = [{"user": u} for u in users]
    if users:
        out += [{"user": ObjectId(users[0])}, {"user": users[0].upper()}]
    return [*out, {"user": UNKNOWN_ID}, {"user": ""}]


def save_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user", "endpoint", "model"))
    out: list[Args] = []
    for i, c in enumerate(found):
        convo = {
            "conversationId": c["conversationId"],
            "endpoint": c.get("endpoint"),
            "model": c.get("model"),
            "title": f"Saved title {i}",
            "temperature": 0.7,
            "isEdited": False,  # not in the schema: dropped
        }
        args: Args = {"user": c["user"], "conversation": convo}
        if i % 3 == 1:
            args["unset_fields"] = {"temperature": 1, "notInSchema": 1}
            del convo["temperature"]
        if i % 3 == 2:
            convo["newConversationId"] = s.new_uuid()  # fork / regenerate under a new id
        out.append(args)
    users = [c["user"] for c in found] or [UNKNOWN_ID]
    out += [
        # a brand-new conversation (first message of a chat), permanent and temporary
        {"user": users[0], "conversation": {"conversationId": s.new_uuid(), "endpoint": "openAI",
                                             "model": "gpt-4o", "title": "Brand new"}},
        {"user": users[0], "conversation": {"conversationId": s.new_uuid(), "endpoint": "openAI",
                                             "model": "gpt-4o-mini"}, "is_temporary": True},
    ]  # fmt: skip
    other = _someone_elses(s, users[0])
    if other is not None:  # another user's id: E11000 on conversationId_1 ⇒ error answer
        out.append({"user": users[0], "conversation": {"conversationId": other["conversationId"],
                                                        "title": "hijack"}})  # fmt: skip
    orphans = s.hazard_refs("orphan_messages")[:1] or [
        s.db.messages.find_one({"conversationId": cid}, {"conversationId": 1, "user": 1})
        for cid in s.orphans("messages", "conversationId", "conversations")
    ]
    for m in orphans:  # orphan messages (§8): the late saveConvo adopts them
        out.append({"user": m["user"], "conversation": {"conversationId": m["conversationId"]}})
    return out


def archive_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"], "is_archived": True}
        for c in found
    ]
    for c in s.pick("conversations", {"isArchived": True}, ("conversationId", "user"), 1):
        out.append(
            {"user": c["user"], "conversation_id": c["conversationId"], "is_archived": False}
        )
    for c in s.pick(
        "conversations", {"expiredAt": {"$type": "date"}}, ("conversationId", "user"), 1
    ):
        # archiving a temporary chat clears its expiredAt (B)
        out.append({"user": c["user"], "conversation_id": c["conversationId"], "is_archived": True})
    user = found[0]["user"] if found else UNKNOWN_ID
    return [*out, {"user": user, "conversation_id": s.new_uuid(), "is_archived": True}]


def rename_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"], "title": f"  Renamed {i} "}
        for i, c in enumerate(found)
    ]
    user = found[0]["user"] if found else UNKNOWN_ID
    other = _someone_elses(s, user)
    if other is not None:
        out.append({"user": user, "conversation_id": other["conversationId"],
                    "title": "someone else's"})  # fmt: skip
    return [*out, {"user": user, "conversation_id": s.new_uuid(), "title": ""}]


def delete_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "filter": {"conversationId": c["conversationId"]}} for c in found
    ]
    if found:
        first = found[0]
        out += [
            {"user": UNKNOWN_ID, "filter": {"conversationId": first["conversationId"]}},
            {"user": first["user"], "filter": {"conversationId": UNKNOWN_UUID, "bogus": 1}},
        ]
    owners = s.owners("conversations", "user", 5)
    counts = {u: s.db.conversations.count_documents({"user": u}) for u in owners}
    if counts:  # `DELETE /api/convos/all` for the lightest of a few owners
        out.append({"user": min(counts, key=lambda u: (counts[u], u)), "filter": {}})
    return out


def bulk_args(s: Sampler) -> list[Args]:
    found = list(
        s.db.conversations.find({}, {"_id": 0}).sort("_id", 1).limit(2 if s.n is None else s.n)
    )
    if not found:
        return [{"conversations": []}]
    batch: list[dict] = []
    for i, c in enumerate(found):
        if i % 2 == 0:  # duplicate: a copy under a new id, timestamps kept as given
            batch.append({**c, "conversationId": s.new_uuid(), "title": f"{c.get('title')} (copy)"})
        else:  # re-import of an existing one
            batch.append({**c, "title": "re-imported", "importSource": "chatgpt"})
    imported = {
        "conversationId": s.new_uuid(),
        "user": found[0]["user"],
        "title": "Imported chat",
        "endpoint": "openAI",
        "model": "gpt-4",
        "createdAt": s.past(400),
        "updatedAt": s.past(399),
    }
    return [{"conversations": [*batch, imported]}, {"conversations": []}]


def save_footprint(db: Database, args: Args) -> dict[str, dict]:
    convo = args.get("conversation") or {"conversationId": args.get("conversation_id")}
    ids = [convo.get("conversationId"), convo.get("newConversationId")]
    return {
        "conversations": {"conversationId": {"$in": [i for i in ids if i is not None]}},
        "messages": {"conversationId": convo.get("conversationId")},
    }


def delete_footprint(db: Database, args: Args) -> dict[str, dict]:
    fields = model.SCHEMA_FIELDS["conversations"]
    query = {k: v for k, v in args["filter"].items() if k in fields}
    query["user"] = string_owner(args["user"])
    ids = db.conversations.distinct("conversationId", query)
    return {"conversations": query, "messages": {"conversationId": {"$in": ids}}}


def bulk_footprint(db: Database, args: Args) -> dict[str, dict]:
    ids = [c.get("conversationId") for c in args["conversations"]]
    return {"conversations": {"conversationId": {"$in": ids}}}
