"""Filler text, names and titles. Fast (``rng.choices`` over small word lists), not meaningful.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
import random

_PROSE = (
    "the of and to in is for that with on as this it be are by from at or an we can data "
    "model function return value error file user request response query index table server "
    "client cache token stream update create delete list page cursor sort filter schema field "
    "type string number array object default option config deploy build test run time date "
    "memory thread process queue event handler route service layer gateway repository "
    "migration database collection document record batch result output input example "
    "because however therefore also then when where which while should would could might "
    "first second next last each every some many more most other such only same new old "
    "good better best simple clear quick small large fast slow safe"
)
_WORDS = _PROSE.split()

_ASKS = (
    "How do I", "Can you explain", "Why does", "What is the best way to", "Please rewrite",
    "Summarize", "Write a", "Help me debug", "Translate", "Compare",
)  # fmt: skip

FIRST_NAMES = (
    "Alice", "Bob", "Carol", "David", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Uma", "Victor",
    "Wendy", "Xavier", "Yara", "Zoe", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Mateo",
    "Hana", "Kenji", "Priya", "Arjun", "Fatima", "Omar", "Lena", "Jonas", "Ines", "Tomas",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Lee", "Walker", "Hall", "Young", "King", "Wright",
    "Scott", "Nguyen", "Kim", "Patel", "Schmidt", "Muller", "Rossi", "Dubois", "Silva", "Sato",
    "Kowalski", "Novak", "Jensen", "Larsen", "Costa", "Haddad", "Cohen", "Ivanova", "Chen",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.com", "uni.example.edu")


def words(rng: random.Random, n_chars: int) -> str:
    """About ``n_chars`` characters of space-separated words."""
    n_words = max(1, n_chars // 6)
    return " ".join(rng.choices(_WORDS, k=n_words))


def sentence(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=n_words)).capitalize() + "."


def title(rng: random.Random) -> str:
    """A conversation title of 2-8 words, like a title model writes."""
    return " ".join(w.capitalize() for w in rng.choices(_WORDS, k=rng.randint(2, 8)))


def user_text(rng: random.Random) -> str:
    """A user prompt: median ~200 chars, long tail; ~1% pasted documents of 10-30 k chars."""
    if rng.random() < 0.01:
        return words(rng, rng.randint(10_000, 30_000))
    n_chars = min(8_000, int(rng.lognormvariate(math.log(200), 1.0)))
    return f"{rng.choice(_ASKS)} {words(rng, n_chars)}?"


def assistant_text(rng: random.Random) -> str:
    """A model answer: median ~1,500 chars (§7: 800-3,000), capped at 12 k."""
    n_chars = min(12_000, int(rng.lognormvariate(math.log(1500), 0.6)))
    return words(rng, n_chars)


def token_count(rng: random.Random, text: str) -> int:
    """Roughly 4 characters per token, with noise."""
    return max(1, round(len(text) / rng.uniform(3.5, 4.5)))
