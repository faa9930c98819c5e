"""Adapter registry: one backend per file; only MongoDB exists (as in the TypeScript gateway)."""

from __future__ import annotations

from migrator.gateway.adapters.mongodb import MongoAdapter

ADAPTERS = {"mongodb": MongoAdapter}
