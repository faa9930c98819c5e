"""`seed()`: a realistic, deterministic LibreChat v0.8.0-rc3 dataset with the §8 hazards.

Phases: users (with balances, sessions, tokens) -> shared library (agents, prompt groups,
ACL entries) -> chats per user (conversations, messages, files, transactions, bookmarks).
Documents stream through a batch writer; only small per-user references stay in memory.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pymongo.database import Database

from migrator.db import connected
from migrator.errors import ConfigError
from migrator.model import COLLECTIONS, HAZARD_MANIFEST, ensure_indexes
from migrator.seed.chats import Chats
from migrator.seed.context import BatchWriter, Ctx, Progress, UserRef
from migrator.seed.hazards import BY_NAME, HazardCounter, plan_carriers, write_manifest
from migrator.seed.ids import Ids
from migrator.seed.library import Library
from migrator.seed.users import write_user
from migrator.settings import Settings


@dataclass(frozen=True)
class HazardCount:
    name: str
    count: int
    unit: str
    description: str


@dataclass
class SeedSummary:
    database: str
    users: int
    seed: int
    counts: dict[str, int]
    hazards: list[HazardCount]
    seconds: float
    dropped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "users": self.users,
            "seed": self.seed,
            "counts": dict(self.counts),
            "total": self.total,
            "hazards": [asdict(h) for h in self.hazards],
            "seconds": round(self.seconds, 3),
            "dropped": list(self.dropped),
        }

    def to_text(self) -> str:
        lines = [
            f"Seeded database {self.database!r}: {self.total:,} documents for {self.users:,} "
            f"users (seed {self.seed}) in {self.seconds:.1f} s",
        ]
        if self.dropped:
            lines.append(f"Dropped first: {', '.join(self.dropped)}")
        lines.append("")
        width = max(len(c) for c in COLLECTIONS)
        lines += [f"  {c:<{width}}  {self.counts.get(c, 0):>10,}" for c in COLLECTIONS]
        lines += ["", "Hazards written on purpose (docs/librechat.md §8):"]
        name_width = max(len(h.name) for h in self.hazards)
        for h in self.hazards:
            lines.append(f"  {h.name:<{name_width}}  {h.count:>6,} {h.unit:<13}  {h.description}")
        return "\n".join(lines)


def _prepare(db: Database, drop: bool) -> list[str]:
    """Refuse a database that holds LibreChat data unless ``drop``; then drop our collections."""
    held = {}
    for name in COLLECTIONS:
        n = db[name].estimated_document_count()
        if n:
            held[name] = n
    if held and not drop:
        first = next(iter(held))
        raise ConfigError(
            f"database {db.name} already holds data ({first}: {held[first]} documents); "
            "pass --drop to replace it"
        )
    existing = set(db.list_collection_names())
    dropped = [name for name in COLLECTIONS if name in existing]
    for name in dropped:
        db.drop_collection(name)
    if HAZARD_MANIFEST in existing:  # the tool's own: replaced silently
        db.drop_collection(HAZARD_MANIFEST)
    return dropped


def seed(
    db: Database,
    *,
    users: int = 200,
    seed: int = 1,
    drop: bool = False,
    progress: Progress | None = None,
) -> SeedSummary:
    """Write the dataset into ``db``. Same ``users`` and ``seed`` give byte-identical data.

    Raises ConfigError when ``db`` already holds data in a LibreChat collection and ``drop``
    is False; with ``drop`` those collections are dropped first (other collections are kept).
    """
    if users < 1:
        raise ConfigError(f"--users must be a positive integer, got {users}")
    started = time.perf_counter()
    dropped = _prepare(db, drop)
    ensure_indexes(db)  # before inserting, like Mongoose autoIndex
    rng = random.Random(seed)
    ctx = Ctx(
        rng=rng,
        ids=Ids(rng),
        out=BatchWriter(db, progress, shuffle=random.Random(f"insertion-order-{seed}")),
        hazards=HazardCounter(),
        carriers=plan_carriers(rng, users),
    )
    people = _write_users(ctx, users)
    library = Library(ctx)
    for user in people:
        library.write_for(user)
    chats = Chats(ctx)
    for user in people:
        chats.write_for(user)
    ctx.out.close()
    write_manifest(db, ctx.hazards, users=users, seed=seed)
    hazards = [
        HazardCount(name, count, BY_NAME[name].unit, BY_NAME[name].description)
        for name, count in ctx.hazards.counts.items()
    ]
    return SeedSummary(
        database=db.name,
        users=users,
        seed=seed,
        counts={name: ctx.out.counts.get(name, 0) for name in COLLECTIONS},
        hazards=hazards,
        seconds=time.perf_counter() - started,
        dropped=dropped,
    )


def seed_database(cfg: Settings, **options: Any) -> SeedSummary:
    """``migrator seed``: :func:`seed` (same ``options``: users, seed, drop, progress) into the
    legacy database ``cfg`` names, on the server every command finds or starts."""
    with connected(cfg) as client:
        return seed(client[cfg.db], **options)


def _write_users(ctx: Ctx, n_users: int) -> list[UserRef]:
    people: list[UserRef] = []
    twins = ctx.carriers["mixed_case_email"]
    for index in range(n_users):
        twin = people[index - 1].email if index in twins else None
        people.append(write_user(ctx, index, n_users, twin))
    return people
