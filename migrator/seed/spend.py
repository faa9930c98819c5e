"""Transactions per chat (§4.5): what spendTokens and the title generation write for one
completion, priced with the model's rates.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from migrator.model import cache_multiplier, multiplier
from migrator.seed.context import Ctx, UserRef

# Title generation model per endpoint (otherwise the conversation's own model).
_TITLE_MODELS = {
    "openAI": "gpt-4o-mini",
    "azureOpenAI": "gpt-4o-mini",
    "agents": "gpt-4o-mini",
    "assistants": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-20241022",
    "bedrock": "claude-3-5-haiku-20241022",
    "google": "gemini-2.0-flash",
}


class Spend:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def _tx(
        self, user: UserRef, conversation_id: str, model: str, context: str, token_type: str,
        raw_amount: int, at: datetime,
    ) -> dict[str, Any]:  # fmt: skip
        rate = multiplier(model, token_type)
        doc = {"_id": self.ctx.ids.oid(at), "user": user.id, "conversationId": conversation_id}
        doc.update(tokenType=token_type, model=model, context=context, rawAmount=raw_amount)
        doc.update(rate=rate, tokenValue=raw_amount * rate, createdAt=at, updatedAt=at, __v=0)
        return doc

    def completion(
        self, user: UserRef, conversation_id: str, model: str, prompt_cache: bool,
        answer: dict[str, Any], context_tokens: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """spendTokens: a prompt and a completion transaction per completion."""
        at = self.ctx.ids.after(answer["createdAt"], 0.05, 1.5)
        prompt = self._tx(user, conversation_id, model, "message", "prompt", -context_tokens, at)
        if prompt_cache and context_tokens > 1_000:
            self._structure(prompt, model, context_tokens)
        completion = -answer["tokenCount"]
        return [
            prompt,
            self._tx(user, conversation_id, model, "message", "completion", completion, at),
        ]

    def _structure(self, tx: dict[str, Any], model: str, total: int) -> None:
        """spendStructuredTokens: cached prompt split into input / cache write / cache read."""
        rng = self.ctx.rng
        read = rng.randint(total // 2, total - 100)
        write = rng.randint(1, total - read - 1)
        fresh = total - read - write
        rate_in = multiplier(model, "prompt")
        rate_write = cache_multiplier(model, "write") or rate_in
        rate_read = cache_multiplier(model, "read") or rate_in
        value = -(fresh * rate_in + write * rate_write + read * rate_read)
        tx.update(inputTokens=-fresh, writeTokens=-write, readTokens=-read)
        tx.update(rawAmount=-total, rate=abs(value) / total, tokenValue=value)

    def title(
        self, user: UserRef, conversation_id: str, endpoint: str, model: str, at: datetime
    ) -> list[dict[str, Any]]:
        """The title generation's prompt and completion, on the endpoint's title model."""
        rng = self.ctx.rng
        model = _TITLE_MODELS.get(endpoint, model)
        at = self.ctx.ids.after(at, 0.5, 4)
        amounts = (("prompt", rng.randint(100, 400)), ("completion", rng.randint(5, 25)))
        return [
            self._tx(user, conversation_id, model, "title", token_type, -amount, at)
            for token_type, amount in amounts
        ]
