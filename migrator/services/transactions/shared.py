"""What both transaction paths share: ``updateBalance``'s retry schedule and ``spendTokens``
(a prompt then a completion transaction), around either path's ``createTransaction``."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

# updateBalance's optimistic loop: 10 tries, 50 ms doubling to 2 s, plus up to 50 % jitter.
MAX_RETRIES = 10
FIRST_DELAY = 0.05
MAX_DELAY = 2.0


def backoff(attempt: int, delay: float) -> float:
    if attempt < MAX_RETRIES:
        time.sleep(delay + random.random() * delay * 0.5)
        return min(delay * 2, MAX_DELAY)
    return delay


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _spent(tokens: int) -> int:
    # spendTokens: `promptTokens === 0 ? 0 : -Math.max(promptTokens, 0)`
    return 0 if tokens == 0 else -max(tokens, 0)


def spend(
    create: Callable[[dict], dict | None],
    tx_data: dict,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> dict:
    prompt = completion = None
    try:
        if prompt_tokens is not None:
            prompt = create({**tx_data, "tokenType": "prompt", "rawAmount": _spent(prompt_tokens)})
        if completion_tokens is not None:
            completion = create(
                {**tx_data, "tokenType": "completion", "rawAmount": _spent(completion_tokens)}
            )
    except Exception:  # spendTokens logs every error and swallows it
        pass
    return {"prompt": prompt, "completion": completion}
