"""Transactions, the gateway path: the Transaction and Balance repositories only."""

from __future__ import annotations

from typing import Any

from migrator.gateway.core import DbGateway
from migrator.services.transactions.shared import (
    FIRST_DELAY,
    MAX_RETRIES,
    backoff,
    is_nan,
    spend,
)


def gw_by_user(gw: DbGateway, *, user_id: str, start: Any = None, end: Any = None) -> list[dict]:
    return gw.get_repository("Transaction").find_by_user(user_id, start, end)


def gw_spend_by_user(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("Transaction").get_user_summary(user_id)


def gw_spend_by_model(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("Transaction").get_model_usage_stats(user_id)


def gw_balance(gw: DbGateway, *, user_id: str) -> Any:
    doc = gw.get_repository("Balance").find_by_user(user_id)
    return doc.get("tokenCredits") if doc is not None else 0


def _gw_update_balance(gw: DbGateway, user: Any, increment: float) -> dict:
    repo = gw.get_repository("Balance")
    delay, last_error = FIRST_DELAY, None
    for attempt in range(1, MAX_RETRIES + 1):
        try:
            current = repo.find_by_user(user)
            credits = current["tokenCredits"] if current is not None else 0
            new_credits = max(0, credits + increment)
            if current is not None:
                updated = repo.find_one_and_update(
                    {"user": user, "tokenCredits": credits}, {"$set": {"tokenCredits": new_credits}}
                )
            else:
                updated = repo.find_one_and_update(
                    {"user": user}, {"$set": {"tokenCredits": new_credits}}, upsert=True
                )
            if updated is not None:
                return updated
            last_error = RuntimeError(f"balance update conflict for user {user} ({attempt})")
        except Exception as exc:
            last_error = exc
        delay = backoff(attempt, delay)
    raise last_error or RuntimeError(f"Failed to update balance for user {user}")


def gw_create_transaction(gw: DbGateway, *, data: dict) -> dict | None:
    tx_data = {k: v for k, v in data.items() if k not in ("balance", "transactions")}
    balance_config = data.get("balance") or {}
    if is_nan(tx_data.get("rawAmount")):
        return None
    if (data.get("transactions") or {}).get("enabled") is False:
        return None
    tx = gw.get_repository("Transaction").create_transaction(tx_data)
    if not balance_config.get("enabled"):
        return None
    updated = _gw_update_balance(gw, tx["user"], tx["tokenValue"])
    return {
        "rate": tx["rate"],
        "user": str(tx["user"]),
        "balance": updated["tokenCredits"],
        tx["tokenType"]: tx["tokenValue"],
    }


def gw_spend_tokens(
    gw: DbGateway,
    *,
    tx_data: dict,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> dict:
    return spend(
        lambda d: gw_create_transaction(gw, data=d), tx_data, prompt_tokens, completion_tokens
    )
