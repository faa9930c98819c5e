"""The embedded engine's internal state, for tests/test_embedded.py (not a test module).

Runs under the engine's own Python (>= 3.13, mongoeco): serves the launcher's Engine (with the
launcher's patches, as ``_serve.py`` ships them) on 127.0.0.1, prints its URI, and when a line
arrives on stdin prints the engine's state as one JSON object and exits: every stored row in
natural order with its ordinal and stored payload, every index's buckets with their members in
stored order and their ordinals, its TTL schedule and counters, the change log's position and
the operation counters. The write shortcuts must leave all of it exactly as the engine's own
code does; ``_mvcc_version`` is left out (a batch of inserts publishes once, not once per
document; only whether it changed is ever read, for write conflicts).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "migrator" / "embedded"))

import _serve
import _write_values
from mongoeco import AsyncMongoClient
from mongoeco.core.codec import DocumentCodec
from mongoeco.engines.memory import MemoryCollection, MemoryIndexMap
from mongoeco.wire import AsyncMongoEcoProxyServer


def _expiry(node: Any) -> list[str]:
    """The TTL schedule in its order: (expiry, token) and the row."""
    if node is None:
        return []
    return [*_expiry(node.left), repr((node.key, node.storage_key)), *_expiry(node.right)]


def _index_state(index_map: Any) -> Any:
    if not isinstance(index_map, MemoryIndexMap):
        return repr(index_map)
    buckets = {}
    for key in sorted(index_map._buckets, key=repr):
        ordinals = index_map._bucket_ordinals[key]
        members = index_map.ordered_storage_keys(key)
        buckets[repr(key)] = [repr((member, ordinals[member])) for member in members]
    return {
        "buckets": buckets,
        "next_ordinal": index_map._next_membership_ordinal,
        "expiry": _expiry(index_map._expiry_root),
        "expiry_by_row": sorted(repr(item) for item in index_map._expiry_by_storage.items()),
        "next_expiry_token": index_map._next_expiry_token,
    }


def _collection_state(coll: Any) -> Any:
    rows = [
        repr((key, coll.ordinal_for(key), getattr(data, "payload", data)))
        for key, data in coll.items()
    ]
    return {"rows": rows, "next_ordinal": getattr(coll, "_next_ordinal", None)}


def state(engine: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "write_shortcuts": DocumentCodec.encode is _write_values._encode,
        "commit_sequence": engine._commit_sequence,
        "change_log": [repr(change) for change in engine._committed_changes],
        "opcounters": engine._runtime_opcounters_snapshot(),
        "collections": repr(sorted((db, sorted(c)) for db, c in engine._collections.items())),
        "options": repr(sorted(engine._collection_options.items())),
    }
    for db_name in sorted(engine._storage):
        for coll_name in sorted(engine._storage[db_name]):
            coll = engine._storage[db_name][coll_name]
            where = f"{db_name}.{coll_name}"
            assert isinstance(coll, MemoryCollection), where
            out[where] = _collection_state(coll)
            indexes = engine._indexes.get(db_name, {}).get(coll_name, [])
            out[f"{where} indexes"] = [repr(index) for index in indexes]
            data = engine._index_data.get(db_name, {}).get(coll_name, {})
            for name in sorted(data):
                out[f"{where} index {name}"] = _index_state(data[name])
    return out


async def main() -> None:
    engine = _serve.Engine(aggregation_materialization_limit=None)
    async with AsyncMongoClient(engine) as client:
        server = AsyncMongoEcoProxyServer(client=client, host="127.0.0.1", port=0)
        async with server:
            print(server.address.uri, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            print(json.dumps(state(engine)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
