"""Inputs sampled once per operation and shared by the jobs of one run.

A sampler is a pure function of the source data, the sample size, the seed and the reference
time ``now``, and the jobs only read the source. So a run of several jobs on one source
(``preflight``: verify then bench; ``demo``: two preflights) samples each operation once and
hands every job the same inputs, instead of reading the source again for each job.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo.database import Database

    from migrator.services.base import Args, Operation


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class SampledInputs:
    """Each operation's inputs, sampled on first use; ``now`` is the samplers' reference time."""

    now: datetime = field(default_factory=_now)
    _memo: dict[tuple, list[Args]] = field(default_factory=dict, repr=False)

    def of(self, op: Operation, source: Database, n: int | None, seed: int) -> list[Args]:
        key = (source.name, op.name, n, seed)
        if key not in self._memo:
            from migrator.services.base import Sampler

            self._memo[key] = list(op.sample(Sampler(source, n, seed=seed, now=self.now)))
        return copy.deepcopy(self._memo[key])  # a path may mutate its arguments


__all__ = ["SampledInputs"]
