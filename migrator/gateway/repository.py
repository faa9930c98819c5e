"""The base repository: the generic CRUD surface of the TypeScript db-gateway's
``MongoBaseRepository`` (docs/librechat.md §6), with the Mongoose behaviours a model gives
for free (§1) applied from the schema facts in ``migrator.model``: casting, strict filters and
updates, hidden fields, timestamps, upsert defaults and ``__v``.

The legacy path spells each behaviour out per operation; the gateway derives it from the schema.
Two independent implementations of one contract is what makes the comparison worth running.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from migrator import model

Doc = dict[str, Any]
Sort = Sequence[tuple[str, int]] | Mapping[str, int] | None
_OPERATOR_KEYS = {"$and", "$or", "$nor"}
_CAST_OPERATORS = {
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$all",
    "$not",
    "$elemMatch",
}


def utcnow() -> datetime:
    """Now as MongoDB stores it: naive UTC, millisecond precision."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_date(value: Any) -> Any:
    """JS ``new Date(str)`` for the ISO strings cursors carry (§1 #4); other values unchanged."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    return value


def as_object_id(value: Any, path: str = "_id") -> Any:
    """Mongoose's ObjectId cast: a 24-hex string becomes an ObjectId; another string fails."""
    if isinstance(value, str):
        try:
            return ObjectId(value)
        except InvalidId:
            raise model.CastError(path, value) from None
    return value


class Repository:
    """One collection with its schema. Subclasses add the entity's own queries."""

    collection_name: str = ""

    def __init__(self, collection: Collection, session: ClientSession | None = None) -> None:
        self.collection = collection
        self.session = session
        name = self.collection_name
        self.fields = model.SCHEMA_FIELDS.get(name, frozenset())
        self.object_id_fields = model.OBJECTID_FIELDS.get(name, frozenset()) | {"_id"}
        self.date_fields = model.DATE_FIELDS.get(name, frozenset())
        self.lowercase_fields = model.LOWERCASE_FIELDS.get(name, frozenset())
        self.hidden = model.HIDDEN_FIELDS.get(name, ())
        self.timestamps = name in model.TIMESTAMPED
        self.defaults = model.DEFAULTS.get(name, {})

    # -- schema behaviours -----------------------------------------------------------------

    def cast_value(self, field: str, value: Any) -> Any:
        top = field.split(".", 1)[0]
        if isinstance(value, Mapping):
            # Operands of comparison operators take the path's type; $type, $exists, $size,
            # $regex... keep theirs (Mongoose casts them to their own types, not the path's).
            return {
                k: self.cast_value(field, v) if k in _CAST_OPERATORS else v
                for k, v in value.items()
            }
        if isinstance(value, list) and top not in self.object_id_fields:
            return [self.cast_value(field, v) for v in value]
        if isinstance(value, list):
            return [as_object_id(v, field) for v in value]
        if top in self.object_id_fields:
            return as_object_id(value, field)
        if top in self.date_fields:
            parsed = parse_date(value)
            if isinstance(parsed, str):  # JS `new Date(str)` is Invalid Date: Mongoose throws
                raise model.CastError(field, value, "date")
            return parsed
        if top in self.lowercase_fields and isinstance(value, str):
            return value.lower()
        if isinstance(value, ObjectId) and top not in self.object_id_fields:
            return str(value)  # String paths cast an ObjectId to its hex (§1 #2)
        return value

    def filter(self, query: Mapping[str, Any] | None, *, upsert: bool = False) -> Doc:
        """Mongoose's query cast: strictQuery drops unknown top-level paths (an upsert refuses
        them with a StrictModeError); known ones are cast; a logical operator loses the
        elements casting emptied, and goes when none is left (`{$or: []}` -> `{}`)."""
        out: Doc = {}
        for key, value in (query or {}).items():
            if key in _OPERATOR_KEYS:
                parts = [(q, self.filter(q, upsert=upsert)) for q in value]
                kept = [cast for q, cast in parts if cast or not q]
                if kept:
                    out[key] = kept
            elif key.startswith("$"):
                out[key] = value
            elif key.split(".", 1)[0] in self.fields or not self.fields:
                out[key] = self.cast_value(key, value)
            elif upsert:
                raise model.StrictModeError(key)
        return out

    def projection(self, select: Mapping[str, int] | None) -> Doc | None:
        """Hidden (select:false) paths are excluded unless the caller asks for them."""
        if select and any(v for v in select.values()):
            return dict(select)
        proj = {f: 0 for f in self.hidden}
        proj.update(select or {})
        return proj or None

    def _clean(self, data: Mapping[str, Any]) -> Doc:
        return {
            k: self.cast_value(k, v)
            for k, v in data.items()
            if k.split(".", 1)[0] in self.fields or not self.fields
        }

    def update_doc(
        self, update: Mapping[str, Any], *, upsert: bool, now: datetime, timestamps: bool = True
    ) -> Doc:
        """A Mongoose-shaped update: plain keys wrapped in $set, strict, timestamps, defaults."""
        plain = {k: v for k, v in update.items() if not k.startswith("$")}
        ops: Doc = {op: dict(v) for op, v in update.items() if op.startswith("$")}
        if plain:
            ops.setdefault("$set", {}).update(plain)
        for op in ("$set", "$setOnInsert", "$inc", "$push", "$addToSet", "$pull"):
            if op in ops:
                ops[op] = self._clean(ops[op])
                ops[op].pop("createdAt", None)  # immutable (§1 #7)
        if "$unset" in ops:
            ops["$unset"] = {
                k: v for k, v in ops["$unset"].items() if k.split(".", 1)[0] in self.fields
            }
        if self.timestamps and timestamps:
            ops.setdefault("$set", {})["updatedAt"] = now
        if upsert:
            touched = {k.split(".", 1)[0] for op in ops.values() for k in op}
            on_insert = ops.setdefault("$setOnInsert", {})
            for key, value in model.materialize(self.defaults, now).items():
                if key not in touched:
                    on_insert.setdefault(key, value)
            if self.timestamps and timestamps:
                on_insert["createdAt"] = now
            if "__v" not in touched:  # a copied document may carry its own __v
                on_insert.setdefault("__v", 0)
        return {op: v for op, v in ops.items() if v}

    def new_document(self, data: Mapping[str, Any], now: datetime) -> Doc:
        """What ``Model.create`` stores: defaults, cast fields, timestamps, ``__v``."""
        doc: Doc = {"_id": ObjectId()}
        doc.update(model.materialize(self.defaults, now))
        doc.update(self._clean(data))
        if self.timestamps:
            doc.setdefault("createdAt", now)
            doc.setdefault("updatedAt", now)
        doc.setdefault("__v", 0)
        return doc

    # -- the generic repository surface (IRepository<T>) -----------------------------------

    def find_by_id(self, id_: Any, select: Mapping[str, int] | None = None) -> Doc | None:
        return self.find_one({"_id": id_}, select)

    def find_one(
        self, query: Mapping[str, Any], select: Mapping[str, int] | None = None, sort: Sort = None
    ) -> Doc | None:
        cursor = self.collection.find(
            self.filter(query), self.projection(select), session=self.session
        )
        if sort:
            cursor = cursor.sort(list(dict(sort).items()))
        return next(iter(cursor.limit(1)), None)

    def find(
        self,
        query: Mapping[str, Any] | None = None,
        *,
        select: Mapping[str, int] | None = None,
        sort: Sort = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[Doc]:
        cursor = self.collection.find(
            self.filter(query), self.projection(select), session=self.session
        )
        if sort:
            cursor = cursor.sort(list(dict(sort).items()))
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor)

    def find_with_pagination(
        self, query: Mapping[str, Any], *, page: int = 1, limit: int = 25, sort: Sort = None
    ) -> dict[str, Any]:
        total = self.count(query)
        data = self.find(query, sort=sort, skip=(page - 1) * limit, limit=limit)
        return {
            "data": data,
            "total": total,
            "page": page,
            "limit": limit,
            "pages": -(-total // limit) if limit else 1,
        }

    def create(self, data: Mapping[str, Any]) -> Doc:
        doc = self.new_document(data, utcnow())
        self.collection.insert_one(doc, session=self.session)
        return doc

    def create_many(self, items: Iterable[Mapping[str, Any]]) -> list[Doc]:
        now = utcnow()
        docs = [self.new_document(d, now) for d in items]
        if docs:
            self.collection.insert_many(docs, session=self.session)
        return docs

    def update(self, id_: Any, data: Mapping[str, Any]) -> Doc | None:
        return self.find_one_and_update({"_id": id_}, data)

    def find_one_and_update(
        self,
        query: Mapping[str, Any],
        data: Mapping[str, Any],
        *,
        upsert: bool = False,
        select: Mapping[str, int] | None = None,
        timestamps: bool = True,
        sort: Sort = None,
    ) -> Doc | None:
        update = self.update_doc(data, upsert=upsert, now=utcnow(), timestamps=timestamps)
        return self.collection.find_one_and_update(
            self.filter(query, upsert=upsert),
            update,
            projection=self.projection(select),
            upsert=upsert,
            sort=list(dict(sort).items()) if sort else None,
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )

    def update_one(
        self, query: Mapping[str, Any], data: Mapping[str, Any], *, upsert: bool = False
    ) -> int:
        update = self.update_doc(data, upsert=upsert, now=utcnow())
        res = self.collection.update_one(
            self.filter(query, upsert=upsert), update, upsert=upsert, session=self.session
        )
        return res.modified_count

    def update_many(self, query: Mapping[str, Any], data: Mapping[str, Any]) -> int:
        update = self.update_doc(data, upsert=False, now=utcnow())
        res = self.collection.update_many(self.filter(query), update, session=self.session)
        return res.modified_count

    def delete(self, id_: Any) -> Doc | None:
        return self.collection.find_one_and_delete(self.filter({"_id": id_}), session=self.session)

    def find_one_and_delete(self, query: Mapping[str, Any]) -> Doc | None:
        return self.collection.find_one_and_delete(self.filter(query), session=self.session)

    def delete_many(self, query: Mapping[str, Any]) -> int:
        return self.collection.delete_many(self.filter(query), session=self.session).deleted_count

    def count(self, query: Mapping[str, Any] | None = None) -> int:
        return self.collection.count_documents(self.filter(query), session=self.session)

    def exists(self, query: Mapping[str, Any]) -> bool:
        return self.count(query) > 0

    def distinct(self, key: str, query: Mapping[str, Any] | None = None) -> list[Any]:
        return self.collection.distinct(key, self.filter(query), session=self.session)

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[Doc]:
        """Aggregations are not cast (§1 #3): the caller passes real ObjectIds."""
        return list(self.collection.aggregate(list(pipeline), session=self.session))

    def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> Any:
        return self.collection.bulk_write(list(requests), ordered=ordered, session=self.session)


def escape_regex(text: str) -> str:
    return re.escape(text)
