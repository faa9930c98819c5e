"""Mongoose 8's query-filter cast (``lib/cast.js``), spelled out for the legacy path.

LibreChat B locks mongoose ^8.12.1; the lines cited are those of ``lib/cast.js`` at tags
8.12.1 through 8.18.0 (unchanged in between). What Mongoose does to a filter before the driver
sees it:

- ``$and`` / ``$or`` / ``$nor`` (lines 65-90): the operand must be an array of objects (else a
  CastError); each element is cast; an element that casting emptied (all its paths unknown) is
  removed; an operator left with no element is deleted — ``{$and: []}`` becomes ``{}``, which
  matches every document, where the server itself would reject the empty array.
- a path outside the schema (lines 296-312): with ``upsert`` (and the default ``strict``) a
  StrictModeError; otherwise ``strictQuery`` (set true in LibreChat's ``api/db/connect.js``)
  deletes it, so the filter matches as if the condition were absent.
- a known path's value is cast by its schema type (lines 313-392): operands of ``$in``,
  ``$nin``, ``$all``, ``$eq``, ``$ne``, ``$gt``... and the elements of arrays take the path's type
  (ObjectId strings to ObjectIds, Date strings to dates, lowercase setters).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator import model
from migrator.services.base import oid

LOGICAL = ("$and", "$or", "$nor")
# Operators whose operand (or each element of it) takes the path's type.
_TYPED = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$all"})


def cast_filter(collection: str, query: Mapping[str, Any], *, upsert: bool = False) -> dict:
    """The filter Mongoose sends for ``query`` on ``collection``'s model."""
    fields = model.SCHEMA_FIELDS[collection]
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key in LOGICAL:
            if not isinstance(value, list):
                raise model.CastError(key, value, "Array")
            kept = []
            for i, part in enumerate(value):
                if not isinstance(part, Mapping):
                    raise model.CastError(f"{key}.{i}", part, "Object")
                cast = cast_filter(collection, part, upsert=upsert)
                if cast or not part:  # emptied by casting: spliced out (line 82)
                    kept.append(cast)
            if kept:  # `delete empty: {$or: []} -> {}` (lines 87-90)
                out[key] = kept
        elif key.startswith("$"):
            out[key] = value  # $where, $expr, $text, $comment: not path conditions
        elif key.split(".", 1)[0] not in fields:
            if upsert:
                raise model.StrictModeError(key)
            # strictQuery: the unknown path is deleted (line 311)
        else:
            out[key] = cast_value(collection, key, value)
    return out


def cast_value(collection: str, path: str, value: Any) -> Any:
    """One path's condition cast by the schema type (ObjectId, Date, lowercase, String owner)."""
    if isinstance(value, Mapping) and any(str(k).startswith("$") for k in value):
        return {k: cast_value(collection, path, v) if k in _TYPED else v for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cast_value(collection, path, v) for v in value]
    top = path.split(".", 1)[0]
    if top == "_id" or top in model.OBJECTID_FIELDS.get(collection, ()):
        return oid(value, path)
    if top in model.DATE_FIELDS.get(collection, ()):
        from migrator.services.messages import js_date  # the one JS Date parser of the port

        return js_date(value, path)
    if top in model.LOWERCASE_FIELDS.get(collection, ()) and isinstance(value, str):
        return value.lower()
    owner = model.OWNER_FIELDS.get(collection)
    if owner == (top, "string") and not isinstance(value, str | type(None)):
        return str(value)  # a String path casts an ObjectId to its hex (§1 #2)
    return value
