"""Conversations with their message trees and bookmarks (§3.5-3.6, §3.11, §7); the files and
transactions a chat writes come from ``uploads`` and ``spend``.

One user at a time: a conversation's messages are generated in memory (at most a few hundred),
then handed to the batch writer; nothing else is kept.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from migrator.model import (
    CONVERSATION_DEFAULTS,
    CONVERSATIONTAG_DEFAULTS,
    MESSAGE_DEFAULTS,
    NO_PARENT,
    materialize,
)
from migrator.seed.context import AgentRef, Ctx, UserRef
from migrator.seed.ids import BASE, FAR, iso
from migrator.seed.spend import Spend
from migrator.seed.text import assistant_text, sentence, title, token_count, user_text, words
from migrator.seed.uploads import Uploads


@dataclass(frozen=True)
class Endpoint:
    name: str
    weight: int
    models: tuple[tuple[str, str], ...]  # (model, response sender)
    preset: dict[str, Any] = field(default_factory=dict)
    endpoint_type: str | None = None


# §7: endpoints and models seen in real deployments (weights are estimates).
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("openAI", 36, (
        ("gpt-4o", "GPT-4o"), ("gpt-4o-mini", "GPT-4o"), ("gpt-4.1", "GPT-4"),
        ("gpt-4.1-mini", "GPT-4"), ("o3-mini", "o3-mini"), ("o4-mini", "o4-mini"),
        ("gpt-5", "GPT-5"),
    ), {"resendFiles": True, "imageDetail": "auto"}),
    Endpoint("azureOpenAI", 5, (("gpt-4o", "GPT-4o"), ("gpt-4.1", "GPT-4")),
             {"resendFiles": True, "imageDetail": "auto"}),
    Endpoint("anthropic", 17, (
        ("claude-3-5-sonnet-20241022", "Claude"), ("claude-3-7-sonnet-20250219", "Claude"),
        ("claude-sonnet-4-20250514", "Claude"),
    ), {"resendFiles": True, "promptCache": True}),
    Endpoint("google", 8, (("gemini-2.0-flash", "Gemini"), ("gemini-2.5-pro", "Gemini")),
             {"resendFiles": True}),
    Endpoint("agents", 15, ()),  # model and sender come from the agent
    Endpoint("bedrock", 3, (("anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude"),),
             {"region": "us-east-1", "resendFiles": True}),
    Endpoint("assistants", 2, (("gpt-4o", "GPT-4o"),)),
    Endpoint("OpenRouter", 3, (("deepseek/deepseek-chat", "OpenRouter"),
                               ("mistralai/mistral-large", "OpenRouter")),
             {"resendFiles": True}, "custom"),
    Endpoint("Ollama", 4, (("llama3.1:8b", "Ollama"), ("llama3.2", "Ollama")), {}, "custom"),
    Endpoint("groq", 2, (("llama-3.3-70b-versatile", "groq"),), {}, "custom"),
    Endpoint("Deepseek", 3, (("deepseek-chat", "Deepseek"), ("deepseek-reasoner", "Deepseek")),
             {}, "custom"),
)  # fmt: skip
_WEIGHTS = [e.weight for e in ENDPOINTS]
_ERROR_TEXT = '{"type":"unknown","info":"429 Rate limit reached. Please try again later."}'


@dataclass
class Setting:
    """How one conversation talks: endpoint, model, preset fields stored on the conversation."""

    endpoint: str
    model: str
    sender: str
    preset: dict[str, Any]
    agent: AgentRef | None = None
    thread_id: str | None = None
    prompt_cache: bool = False
    legacy: bool = False


@dataclass
class Thread:
    """What one conversation produced."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    last: datetime | None = None


class Chats:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.spend = Spend(ctx)
        self.uploads = Uploads(ctx)

    # -- sizes (§7, estimates) -------------------------------------------------------------

    def _n_conversations(self) -> int:
        """Heavy-tailed: median 4, mean ~10, ~15 % none, a few power users with hundreds."""
        return min(3_000, int(self.ctx.rng.lognormvariate(math.log(4), 1.35)))

    def _n_turns(self) -> int:
        """Median 2 turns (4 messages), p90 ~12 (24 messages), capped at 150."""
        return min(150, max(1, round(self.ctx.rng.lognormvariate(math.log(2), 1.4))))

    # -- per user ----------------------------------------------------------------------------

    def write_for(self, user: UserRef) -> None:
        ctx = self.ctx
        custom_tags: list[str] = []
        if ctx.chance(0.1):  # a few users keep their own bookmark tags
            picked = (w.lower() for w in title(ctx.rng).split()[:3])
            custom_tags = list(dict.fromkeys(w for w in picked if w != "saved"))
        tally: Counter[str] = Counter()
        for _ in range(self._n_conversations()):
            self._conversation(user, "normal", tally, custom_tags)
        if ctx.carries("many_conversations", user):  # more than a sidebar page (25)
            for i in range(40):
                self._conversation(user, "normal", tally, custom_tags, resume=i % 3 == 0)
            ctx.hazards.add("many_conversations", 40, {"user": user.hex})
        if ctx.carries("long_conversation", user):  # more messages than a 100-row cap
            self._conversation(user, "long", tally, custom_tags, turns=60)
        for hazard, kind in (
            ("orphan_messages", "orphan"),
            ("messages_without_timestamps", "imported"),
            ("string_created_at", "string_dates"),
            ("archived_conversations", "archived"),
            ("temporary_conversations", "temporary"),
            ("legacy_message_plugin", "legacy"),
        ):
            if ctx.carries(hazard, user):
                self._conversation(user, kind, tally, custom_tags)
        self.uploads.loose_files(user)
        if ctx.carries("many_files", user):  # more files than a 100-row cap
            for _ in range(120):
                self.uploads.upload(user)
            ctx.hazards.add("many_files", 120, {"user": user.hex})
        self._write_tags(user, tally, custom_tags)

    # -- conversation --------------------------------------------------------------------------

    def _setting(self, user: UserRef, start: datetime, kind: str) -> Setting:
        ctx, rng = self.ctx, self.ctx.rng
        if kind == "legacy":  # the gptPlugins endpoint of L-era installs
            model = "gpt-3.5-turbo"
            options = {"agent": "functions", "skipCompletion": True, "model": model,
                       "temperature": 0}  # fmt: skip
            preset = {"endpoint": "gptPlugins", "model": model, "agentOptions": options}
            return Setting("gptPlugins", model, "GPT-3.5", preset, legacy=True)
        if kind == "imported":
            return Setting("openAI", "gpt-4", "GPT-4", {"endpoint": "openAI", "model": "gpt-4"})
        endpoint = rng.choices(ENDPOINTS, _WEIGHTS)[0]
        if endpoint.name == "agents":
            pool = ctx.own_agents.get(user.index, []) + ctx.public_agents
            agents = [a for a in pool if a.created < start]
            if agents:
                agent = rng.choice(agents)
                preset = {"endpoint": "agents", "agent_id": agent.id, "model": agent.model}
                return Setting("agents", agent.model, agent.name, preset, agent=agent)
            endpoint = ENDPOINTS[0]
        model, sender = rng.choice(endpoint.models)
        preset = {"endpoint": endpoint.name, **endpoint.preset, "model": model}
        if endpoint.endpoint_type:
            preset["endpointType"] = endpoint.endpoint_type
        if ctx.chance(0.15):  # parameters the user changed
            preset.update(temperature=rng.choice([0, 0.3, 0.7, 1]), top_p=1)
        if endpoint.name == "anthropic" and "sonnet" in model and "3-5" not in model:
            preset.update(thinking=True, thinkingBudget=2000)
        setting = Setting(endpoint.name, model, sender, preset)
        setting.prompt_cache = bool(preset.get("promptCache"))
        if endpoint.name == "assistants":
            preset["assistant_id"] = f"asst_{ctx.ids.alnum(24)}"
            setting.thread_id = f"thread_{ctx.ids.alnum(24)}"
        return setting

    def _conversation(
        self, user: UserRef, kind: str, tally: Counter[str], tags: list[str],
        turns: int | None = None, resume: bool | None = None,
    ) -> None:  # fmt: skip
        ctx, ids, rng = self.ctx, self.ctx.ids, self.ctx.rng
        latest = max(user.created + timedelta(minutes=1), BASE - timedelta(days=2))
        start = ids.between(user.created, latest)
        setting = self._setting(user, start, kind)
        conversation_id = ids.uuid()
        hazardous = kind not in ("normal", "long")
        if turns is None:
            turns = rng.randint(1, 2) if hazardous else self._n_turns()
        expired_at: datetime | None = None
        if kind == "temporary" or (kind == "normal" and ctx.chance(0.005)):
            expired_at = ids.between(FAR, FAR + timedelta(days=30))  # §4.2: now + retention
        thread = self._thread(user, conversation_id, setting, start, turns, kind, expired_at)
        if kind == "orphan":  # messages saved, conversation never upserted
            for doc in thread.messages:
                ctx.out.add("messages", doc)
            ref = {"user": user.hex, "conversationId": conversation_id}
            ctx.hazards.add("orphan_messages", len(thread.messages), ref)
            return
        doc = self._conversation_doc(user, conversation_id, setting, start, thread, kind)
        ref = {"user": user.hex, "conversationId": conversation_id}
        if kind == "long":
            ctx.hazards.add("long_conversation", len(thread.messages), ref)
            if len(thread.transactions) > 100:  # 60 turns spend twice each, bar failed answers
                ctx.hazards.add("many_transactions", len(thread.transactions), ref)
        if resume is None:  # resumed, renamed or archived later (§7: a long tail)
            resume = kind in ("normal", "long") and ctx.chance(0.15)
        if resume:
            doc["updatedAt"] = ids.between(doc["updatedAt"], BASE + timedelta(days=2))
            ctx.hazards.add("conversations_updated_later", 1, ref)
        if expired_at is not None:
            doc["expiredAt"] = expired_at
            ctx.hazards.add("temporary_conversations", 1, ref)
        if kind == "archived" or (kind == "normal" and ctx.chance(0.02)):
            doc["isArchived"] = True
            ctx.hazards.add("archived_conversations", 1, ref)
        if kind in ("normal", "long"):
            doc["tags"] = self._tags(tags)
            tally.update(doc["tags"])
        for message in thread.messages:
            ctx.out.add("messages", message)
        for file in thread.files:
            ctx.out.add("files", file)
        for tx in thread.transactions:
            ctx.out.add("transactions", tx)
        ctx.out.add("conversations", doc)

    def _conversation_doc(
        self, user: UserRef, conversation_id: str, setting: Setting, start: datetime,
        thread: Thread, kind: str,
    ) -> dict[str, Any]:  # fmt: skip
        """The document saveConvo's upsert leaves (§4.2): defaults, preset, messages, expiredAt."""
        ctx = self.ctx
        created, updated = start, thread.last or start
        if kind == "imported":  # ChatGPT export times; the import itself happened later
            created = ctx.ids.between(start - timedelta(days=400), start)
            updated = ctx.ids.after(created, 60, 3 * 86_400)
        doc: dict[str, Any] = {"_id": ctx.ids.oid(start), "conversationId": conversation_id}
        doc["user"] = user.hex
        doc.update(materialize(CONVERSATION_DEFAULTS, start))
        doc.update(setting.preset)
        doc["title"] = self._title(kind)
        doc["messages"] = [m["_id"] for m in thread.messages]
        doc["files"] = [f["file_id"] for f in thread.files]
        ref = {"user": user.hex, "conversationId": conversation_id}
        if kind != "imported":  # B's saveConvo stores expiredAt: null; the importer does not
            doc["expiredAt"] = None
        else:
            ctx.hazards.add("imported_conversation_without_expiredAt", 1, ref)
        if kind == "legacy":
            ctx.hazards.add("legacy_conversation_agentOptions", 1, ref)
        doc.update(createdAt=created, updatedAt=updated, __v=0)
        return doc

    def _title(self, kind: str) -> str:
        if kind == "imported":
            return title(self.ctx.rng)
        return "New Chat" if self.ctx.chance(0.05) else title(self.ctx.rng)

    def _tags(self, custom: list[str]) -> list[str]:
        """§7: tags mostly [] or ['Saved']."""
        ctx = self.ctx
        tags = ["Saved"] if ctx.chance(0.05) else []
        if custom and ctx.chance(0.2):
            tags.append(ctx.rng.choice(custom))
        return tags

    # -- messages ------------------------------------------------------------------------------

    def _thread(
        self, user: UserRef, conversation_id: str, setting: Setting, start: datetime,
        turns: int, kind: str, expired_at: datetime | None,
    ) -> Thread:  # fmt: skip
        """§7 message tree: user -> response -> user ...; a regeneration adds a sibling."""
        ctx, ids = self.ctx, self.ctx.ids
        thread = Thread()
        parent, at = NO_PARENT, start
        context = ctx.rng.randint(50, 800)  # system prompt / instructions tokens
        for turn in range(turns):
            question = self._message(user, conversation_id, setting, parent, at, by_user=True)
            if turn == 0 and kind in ("normal", "long") and ctx.chance(0.08):
                thread.files += self.uploads.attach(user, conversation_id, question)
            thread.messages.append(question)
            context += question.get("tokenCount", 0)
            regenerations = 1 if kind in ("normal", "long") and ctx.chance(0.04) else 0
            for _ in range(1 + regenerations):
                at = ids.after(at, 2, 90)
                answer = self._message(
                    user, conversation_id, setting, question["messageId"], at, by_user=False
                )
                thread.messages.append(answer)
                if kind != "imported" and not answer["error"]:
                    thread.transactions += self.spend.completion(
                        user, conversation_id, setting.model, setting.prompt_cache, answer, context
                    )
            context += answer.get("tokenCount", 0)
            if turn == 0 and kind not in ("imported", "orphan") and ctx.chance(0.7):
                thread.transactions += self.spend.title(
                    user, conversation_id, setting.endpoint, setting.model, at
                )
            parent = answer["messageId"]
            thread.last = at
            at = ids.after(at, 15, 900) if ctx.chance(0.95) else ids.after(at, 3600, 5 * 86_400)
        self._finish(thread, kind, expired_at)
        return thread

    def _message(
        self, user: UserRef, conversation_id: str, setting: Setting, parent: str,
        at: datetime, *, by_user: bool,
    ) -> dict[str, Any]:  # fmt: skip
        ctx, rng = self.ctx, self.ctx.rng
        doc: dict[str, Any] = {"_id": ctx.ids.oid(at), "messageId": ctx.ids.uuid()}
        doc.update(conversationId=conversation_id, **materialize(MESSAGE_DEFAULTS, at))
        doc.update(user=user.hex, parentMessageId=parent, endpoint=setting.endpoint)
        if by_user:
            text = user_text(rng)
            doc.update(sender="User", text=text, isCreatedByUser=True)
            doc["tokenCount"] = token_count(rng, text)
        else:
            doc.update(model=setting.model, sender=setting.sender)
            self._answer(doc, setting)
        if setting.thread_id:
            doc["thread_id"] = setting.thread_id
        doc.update(createdAt=at, updatedAt=at, __v=0)
        return doc

    def _answer(self, doc: dict[str, Any], setting: Setting) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        if ctx.chance(0.015):  # failed request: error text, no tokens, no spend
            doc.update(text=_ERROR_TEXT, error=True)
            return
        text = assistant_text(rng)
        doc["tokenCount"] = token_count(rng, text)
        if setting.agent is not None:  # v0.8 agents: answer lives in content parts (§7)
            parts: list[dict[str, Any]] = []
            if ctx.chance(0.3):
                parts.append({"type": "think", "think": words(rng, rng.randint(200, 2_000))})
            if ctx.chance(0.2):
                call = {"id": f"call_{ctx.ids.alnum(24)}", "name": "web_search",
                        "args": '{"query":"' + words(rng, 30) + '"}',
                        "output": words(rng, 400), "progress": 1, "type": "tool_call"}  # fmt: skip
                parts.append({"type": "tool_call", "tool_call": call})
            parts.append({"type": "text", "text": text})
            doc.update(text="", content=parts)
        else:
            doc["text"] = text
        if ctx.chance(0.01):  # aborted stream
            doc["unfinished"] = True
        if ctx.chance(0.03):
            doc["feedback"] = (
                {"rating": "thumbsUp"}
                if ctx.chance(0.7)
                else {"rating": "thumbsDown", "text": sentence(rng, 8)}
            )
        if setting.legacy:
            tool = rng.choice(["Google", "Wolfram", "dall-e"])
            doc["plugin"] = {"latest": tool, "inputs": [{"input": words(rng, 60)}],
                             "outputs": words(rng, 300)}  # fmt: skip
            ref = {k: doc[k] for k in ("user", "conversationId", "messageId")}
            self.ctx.hazards.add("legacy_message_plugin", 1, ref)

    def _finish(self, thread: Thread, kind: str, expired_at: datetime | None) -> None:
        """Apply the conversation-level twists to its messages."""
        ctx = self.ctx
        if kind in ("normal", "long"):  # rated or edited later: updatedAt moves on
            edit_rate = 0.25 if kind == "long" else 0.04
            for doc in thread.messages:
                if "feedback" in doc or ctx.chance(edit_rate):
                    doc["updatedAt"] = ctx.ids.after(doc["createdAt"], 30, 3 * 86_400)
                    ref = {k: doc[k] for k in ("user", "conversationId", "messageId")}
                    ctx.hazards.add("messages_updated_later", 1, ref)
        for doc in thread.messages:
            if kind == "imported":  # §8: bulk write with timestamps off, ChatGPT senders
                del doc["createdAt"], doc["updatedAt"]
                doc.pop("tokenCount", None)
                doc["sender"] = "user" if doc["isCreatedByUser"] else "GPT-4"
            else:  # B's saveMessage stores expiredAt on every save (null unless temporary)
                doc["expiredAt"] = expired_at
            if kind == "string_dates":
                doc["createdAt"] = iso(doc["createdAt"])
                doc["updatedAt"] = iso(doc["updatedAt"])
        first = thread.messages[0] if thread.messages else {}
        ref = {k: first.get(k) for k in ("user", "conversationId", "messageId")}
        if kind == "imported":
            self.ctx.hazards.add("messages_without_timestamps", len(thread.messages), ref)
        if kind == "string_dates":
            self.ctx.hazards.add("string_created_at", len(thread.messages), ref)

    # -- bookmarks (§3.11, §4.8) ---------------------------------------------------------------

    def _write_tags(self, user: UserRef, tally: Counter[str], custom: list[str]) -> None:
        """'Saved' comes from the bookmark button (upsert: position 0); custom tags from the
        bookmarks menu (position max+1)."""
        ctx = self.ctx
        names = (["Saved"] if tally["Saved"] else []) + custom
        for position, tag in enumerate(names, start=0 if tally["Saved"] else 1):
            at = ctx.ids.between(user.created, BASE)
            doc: dict[str, Any] = {"_id": ctx.ids.oid(at), "tag": tag, "user": user.hex}
            doc.update(materialize(CONVERSATIONTAG_DEFAULTS, at))
            doc.update(count=tally[tag], position=position)
            if tag != "Saved" and ctx.chance(0.5):
                doc["description"] = sentence(ctx.rng, 5)
            doc.update(createdAt=at, updatedAt=at, __v=0)
            ctx.out.add("conversationtags", doc)
