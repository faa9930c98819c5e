"""Mongoose 8's behaviours the legacy path spells out by hand: the query-filter cast
(``lib/cast.js``) and what a document write does (casts, strict ``$set``, upsert defaults).

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

Writes (§1): a Date path casts a string through JS ``new Date`` (#4), a String owner path an
ObjectId to its hex (#2); ``strict`` drops unknown keys (#6) and timestamps make ``createdAt``
immutable (#7); an upsert adds the schema defaults of untouched paths, ``createdAt`` and
``__v`` (#8); ``bulkWrite`` answers with its counts.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from migrator import model

LOGICAL = ("$and", "$or", "$nor")
# Operators whose operand (or each element of it) takes the path's type.
_TYPED = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$all"})


# --- queries ------------------------------------------------------------------------------


def oid(value: Any, path: str = "_id") -> Any:
    """Mongoose's cast of a string on an ObjectId path (§1 #2): invalid strings throw."""
    if isinstance(value, str):
        try:
            return ObjectId(value)
        except InvalidId:
            raise model.CastError(path, value) from None
    return value


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
        return cast_date(value, path)
    if top in model.LOWERCASE_FIELDS.get(collection, ()) and isinstance(value, str):
        return value.lower()
    owner = model.OWNER_FIELDS.get(collection)
    if owner == (top, "string") and not isinstance(value, str | type(None)):
        return str(value)  # a String path casts an ObjectId to its hex (§1 #2)
    return value


# --- documents ----------------------------------------------------------------------------


def cast_date(value: Any, path: str) -> Any:
    """Mongoose's cast of a value on a Date path (§1 #4): a string goes through JS
    ``new Date(str)``; an Invalid Date is a CastError. null/undefined stay null.

    Covers the ISO forms B's cursors carry (``toISOString()``); a date-time without an offset
    is read as UTC (JS would use the server's zone, UTC in LibreChat's images). JS's
    ``Date.toString()`` form (N's message cursors) is not parsed here."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise model.CastError(path, value, "date") from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)  # JS: ms
    return value


def string_owner(user: Any) -> Any:
    """`user` is a String path on conversations/messages: Mongoose casts an ObjectId to its hex
    (user-stats passes `user._id`) and never casts the other way (§1 #2)."""
    return str(user) if isinstance(user, ObjectId) else user


def strict_set(collection: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """`strict` (§1 #6): unknown top-level keys are dropped, Date paths cast, and `createdAt`
    dropped because timestamps make it immutable (§1 #7, belief)."""
    fields = model.SCHEMA_FIELDS[collection]
    dates = model.DATE_FIELDS[collection]
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields or key == "createdAt":
            continue
        out[key] = cast_date(value, key) if key in dates else value
    return out


def on_insert(
    collection: str, touched: set[str], now: datetime, *, timestamps: bool = True
) -> dict[str, Any]:
    """What Mongoose adds with `$setOnInsert` on an upsert: schema defaults of paths no
    operator of the update names (setDefaultsOnInsert, §1 #8), `createdAt` (§1 #7) and
    `__v: 0` unless the update sets `__v` itself (decorateUpdateWithVersionKey)."""
    out = {
        k: v
        for k, v in model.materialize(model.DEFAULTS[collection], now).items()
        if k not in touched
    }
    if timestamps:
        out["createdAt"] = now
    if "__v" not in touched:
        out["__v"] = 0
    return out


def bulk_result(result: Any) -> dict[str, Any]:
    """The counts of Mongoose's bulkWrite result (a driver BulkWriteResult)."""
    return {
        "insertedCount": result.inserted_count,
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "deletedCount": result.deleted_count,
        "upsertedCount": result.upserted_count,
        "upsertedIds": {str(i): _id for i, _id in (result.upserted_ids or {}).items()},
    }


def empty_bulk_result() -> dict[str, Any]:
    """Mongoose answers an empty bulkWrite itself, without calling the server."""
    counts = ("insertedCount", "matchedCount", "modifiedCount", "deletedCount", "upsertedCount")
    return {**dict.fromkeys(counts, 0), "upsertedIds": {}}
