"""Shared resources: agents, prompt groups with their prompts, and their ACL entries (§3.9-3.12).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from migrator.model import AGENT_DEFAULTS, PROMPTGROUP_DEFAULTS, TOOL_RESOURCE_TEXT, materialize
from migrator.seed.context import AgentRef, Ctx, UserRef
from migrator.seed.ids import BASE, HISTORY
from migrator.seed.text import sentence, title, words

# §3.12 permission bits
VIEW, EDIT, DELETE, SHARE = 1, 2, 4, 8
OWNER = VIEW | EDIT | DELETE | SHARE

# (provider, model) pairs agents run on (§7).
_AGENT_MODELS = (
    ("openAI", "gpt-4o"),
    ("openAI", "gpt-4.1-mini"),
    ("openAI", "o4-mini"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-3-7-sonnet-20250219"),
    ("google", "gemini-2.5-pro"),
)
_AGENT_TOOLS = ("web_search", "execute_code", "file_search", "image_gen_oai", "calculator")
_AGENT_CATEGORIES = ("general", "general", "general", "hr", "rd", "finance", "it", "sales")
_PROMPT_CATEGORIES = ("", "", "code", "writing", "idea", "travel", "misc")
_ACCESS_ROLES = (
    "agent_viewer", "agent_editor", "agent_owner",
    "promptGroup_viewer", "promptGroup_editor", "promptGroup_owner",
)  # fmt: skip


class Library:
    """Writes agents and prompt groups for a share of users; remembers agents for chats."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        # accessroles are seeded by LibreChat at start-up; ids referenced as ACL roleId
        installed = BASE - HISTORY - timedelta(days=1)
        self.role_ids = {name: ctx.ids.oid(installed) for name in _ACCESS_ROLES}
        self.ghosts: set[ObjectId] = set()  # authors deleted after writing (§8)

    # -- ACL -----------------------------------------------------------------------------

    def _acl(
        self,
        resource_type: str,
        resource_id: ObjectId,
        author: ObjectId,
        at: datetime,
        public: bool,
    ) -> None:
        """Owner entry (permBits 15) and, for public resources, a public VIEW entry."""
        owner = {
            "_id": self.ctx.ids.oid(at),
            "principalType": "user",
            "principalId": author,
            "principalModel": "User",
            "resourceType": resource_type,
            "resourceId": resource_id,
            "permBits": OWNER,
            "roleId": self.role_ids[f"{resource_type}_owner"],
            "grantedBy": author,
            "grantedAt": at,
            "createdAt": at,
            "updatedAt": at,
            "__v": 0,
        }
        self.ctx.out.add("aclentries", owner)
        if public:
            shared = self.ctx.ids.between(at, BASE)
            viewer = {
                "_id": self.ctx.ids.oid(shared),
                "principalType": "public",
                "resourceType": resource_type,
                "resourceId": resource_id,
                "permBits": VIEW,
                "roleId": self.role_ids[f"{resource_type}_viewer"],
                "grantedBy": author,
                "grantedAt": shared,
                "createdAt": shared,
                "updatedAt": shared,
                "__v": 0,
            }
            self.ctx.out.add("aclentries", viewer)

    # -- agents --------------------------------------------------------------------------

    def _agent_file(self, owner: ObjectId, at: datetime, kind: str) -> str:
        """A file attached to an agent's tool_resources (§3.7, §4.4 getToolFilesByIds)."""
        ids = self.ctx.ids
        file_id = ids.uuid()
        doc: dict[str, Any] = {"_id": ids.oid(at), "user": owner, "file_id": file_id}
        name = f"{title(self.ctx.rng).replace(' ', '_').lower()}.pdf"
        doc.update(bytes=self.ctx.rng.randint(20_000, 5_000_000), filename=name)
        doc.update(filepath=f"/uploads/{owner}/{file_id}__{name}", object="file")
        doc.update(type="application/pdf", context="agents", usage=0, source="local")
        if kind == "file_search":
            doc["embedded"] = True
        elif kind == "text":  # OCR / "upload as text": extracted text kept on the file
            doc["text"] = words(self.ctx.rng, self.ctx.rng.randint(2_000, 20_000))
            doc["source"] = "text"
        else:  # execute_code: the code environment's file reference
            doc["metadata"] = {"fileIdentifier": f"{ids.alnum(21)}/{ids.alnum(21)}"}
            doc["source"] = "execute_code"
        doc.update(createdAt=at, updatedAt=at, __v=0)
        self.ctx.out.add("files", doc)
        if owner in self.ghosts:
            ref = {"user": str(owner), "file_id": file_id}
            self.ctx.hazards.add("orphan_files_user", 1, ref)
        return file_id

    def _tool_resources(self, author: ObjectId, at: datetime, tools: list[str]) -> dict:
        resources: dict[str, Any] = {}
        if "file_search" in tools:
            resources["file_search"] = {"file_ids": [self._agent_file(author, at, "file_search")]}
        if "execute_code" in tools and self.ctx.chance(0.5):
            file_ids = [self._agent_file(author, at, "execute_code")]
            resources["execute_code"] = {"file_ids": file_ids}
        if self.ctx.chance(0.15):
            # B's key for OCR'd / text files is `ocr` (N renamed it `context`): model.py
            text_files = [self._agent_file(author, at, "text")]
            resources[TOOL_RESOURCE_TEXT] = {"file_ids": text_files}
        return resources

    def write_agent(
        self, author: ObjectId, author_name: str, since: datetime, public: bool,
        at: datetime | None = None, held: list[dict[str, Any]] | None = None,
    ) -> AgentRef:  # fmt: skip
        """§4.6 createAgent: versions = [snapshot of everything but author], category default.

        ``at`` fixes both timestamps (an import); ``held`` collects the document instead of
        writing it, so the caller chooses the insertion order."""
        ctx, rng = self.ctx, self.ctx.rng
        created = at or ctx.ids.between(since, BASE)
        provider, model = rng.choice(_AGENT_MODELS)
        tools = sorted(rng.sample(_AGENT_TOOLS, rng.randint(0, 3)))
        data: dict[str, Any] = {
            "id": f"agent_{ctx.ids.nanoid()}",
            "name": title(rng)[:40],
            "description": sentence(rng, rng.randint(5, 15)),
            "instructions": words(rng, rng.randint(100, 2_000)),
            "provider": provider,
            "model": model,
            "model_parameters": {"temperature": rng.choice([0.2, 0.7, 1])}
            if ctx.chance(0.4)
            else {},
            "tools": tools,
            "authorName": author_name,
            **materialize(AGENT_DEFAULTS, created),
        }
        data["conversation_starters"] = [sentence(rng, 6) for _ in range(rng.randint(0, 3))]
        data["tool_resources"] = self._tool_resources(author, created, tools)
        data["category"] = rng.choice(_AGENT_CATEGORIES)
        data["is_promoted"] = ctx.chance(0.1)
        snapshot = {k: v for k, v in data.items() if k != "versions"}
        versions = [{**snapshot, "createdAt": created, "updatedAt": created}]
        updated = created
        if at is None and ctx.chance(0.3):  # edited once: a second snapshot
            updated = ctx.ids.between(created, BASE)
            data["instructions"] = words(rng, rng.randint(100, 2_000))
            versions.append({**snapshot, "instructions": data["instructions"],
                             "createdAt": updated, "updatedAt": updated})  # fmt: skip
        agent_oid = ctx.ids.oid(created)
        doc = {"_id": agent_oid, **data, "author": author, "versions": versions}
        doc.update(createdAt=created, updatedAt=updated, __v=0)
        if held is None:
            ctx.out.add("agents", doc)
        else:
            held.append(doc)
        self._acl("agent", agent_oid, author, created, public)
        return AgentRef(data["id"], data["name"], provider, model, created)

    # -- prompts -------------------------------------------------------------------------

    def write_prompt_group(
        self, user: UserRef, broken: bool = False, at: datetime | None = None,
        held: list[dict[str, Any]] | None = None,
    ) -> ObjectId:  # fmt: skip
        """§4.7 createPromptGroup: group, prompt(s), productionId -> one prompt of the group.

        ``broken`` leaves the group as an interrupted creation: productionId null, no prompt.
        ``at`` fixes the group's timestamps and makes it public (an import); ``held`` collects
        the group document instead of writing it.
        """
        ctx, rng = self.ctx, self.ctx.rng
        created = at or ctx.ids.between(user.created, BASE)
        group_id = ctx.ids.oid(created)
        name = title(rng)[:50]
        prompts = [] if broken else self._prompts(user, group_id, created, 1 if at else None)
        updated = at or (prompts[-1]["updatedAt"] if prompts else created)
        doc: dict[str, Any] = {"_id": group_id, "name": name}
        doc.update(materialize(PROMPTGROUP_DEFAULTS, created))
        doc["numberOfGenerations"] = min(500, int(rng.paretovariate(1.2)) - 1)
        doc["oneliner"] = sentence(rng, 6) if ctx.chance(0.4) else ""
        doc["category"] = rng.choice(_PROMPT_CATEGORIES)
        doc["productionId"] = rng.choice(prompts)["_id"] if prompts else None
        doc.update(author=user.id, authorName=user.name)
        if ctx.chance(0.4):
            doc["command"] = re.sub(r"[^a-z0-9-]", "-", name.lower())[:56]
        doc.update(createdAt=created, updatedAt=updated, __v=0)
        if held is None:
            ctx.out.add("promptgroups", doc)
        else:
            held.append(doc)
        for prompt in prompts:
            ctx.out.add("prompts", prompt)
        self._acl("promptGroup", group_id, user.id, created, at is not None or ctx.chance(0.3))
        if broken:
            ref = {"group_id": str(group_id), "user": user.hex}
            ctx.hazards.add("promptgroup_without_production", 1, ref)
        return group_id

    def _prompts(
        self, user: UserRef, group_id: ObjectId, at: datetime, n: int | None = None
    ) -> list[dict]:
        ctx, rng = self.ctx, self.ctx.rng
        kind = rng.choice(["text", "chat"])
        out = []
        for _ in range(n or rng.choices([1, 2, 3, 4], [60, 25, 10, 5])[0]):
            text = words(rng, rng.randint(80, 1_500))
            if ctx.chance(0.4):
                text += " {{" + rng.choice(["topic", "language", "tone", "input"]) + "}}"
            doc = {"_id": ctx.ids.oid(at), "groupId": group_id, "author": user.id}
            doc.update(prompt=text, type=kind, createdAt=at, updatedAt=at, __v=0)
            out.append(doc)
            at = ctx.ids.after(at, 60, 30 * 86_400)
        return out

    # -- per user ------------------------------------------------------------------------

    def write_for(self, user: UserRef) -> None:
        """Agents (~12 % of users) and prompt groups (~10 %) authored by ``user``."""
        ctx, rng = self.ctx, self.ctx.rng
        if ctx.chance(0.12) or user.index == 0:
            for _ in range(rng.choices([1, 2, 3], [70, 20, 10])[0]):
                public = ctx.chance(0.4)
                agent = self.write_agent(user.id, user.name, user.created, public)
                ctx.own_agents.setdefault(user.index, []).append(agent)
                if public:
                    ctx.public_agents.append(agent)
        broken = ctx.carries("promptgroup_without_production", user)
        if broken or ctx.chance(0.1):
            for _ in range(rng.choices([1, 2, 3], [70, 20, 10])[0]):
                self.write_prompt_group(user)
        if broken:
            self.write_prompt_group(user, broken=True)
        if ctx.carries("authorless_agents", user):
            # the author was deleted later; the agent and its ACL entries stay (§8)
            ghost = ctx.ids.oid(user.created)
            self.ghosts.add(ghost)
            agent = self.write_agent(ghost, "Deleted User", user.created, public=True)
            ctx.public_agents.append(agent)
            ctx.hazards.add("authorless_agents", 1, {"agent_id": agent.id, "user": str(ghost)})
        if ctx.carries("sort_key_ties", user):
            self._write_ties(user)

    def _write_ties(self, user: UserRef) -> None:
        """Three public agents and three public prompt groups imported at one instant: equal
        updatedAt, so their order is `_id` ascending (the second sort key). Stored in
        descending `_id` order, so a sort without the second key shows them reversed."""
        ctx = self.ctx
        at = ctx.ids.between(user.created, BASE)
        agents: list[dict[str, Any]] = []
        groups: list[dict[str, Any]] = []
        for _ in range(3):
            ref = self.write_agent(user.id, user.name, user.created, True, at=at, held=agents)
            ctx.public_agents.append(ref)
            self.write_prompt_group(user, at=at, held=groups)
        for doc in reversed(agents):
            ctx.out.add("agents", doc)
        for doc in reversed(groups):
            ctx.out.add("promptgroups", doc)
        ids = [d["id"] for d in agents]
        ctx.hazards.add("sort_key_ties", 3, {"user": user.hex, "agent_id": ids[0]})
