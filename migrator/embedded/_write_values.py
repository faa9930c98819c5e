"""Exact shortcuts for the values every write handles, used by ``_write_shortcuts.py``.

Runs under the engine's own Python >= 3.13 venv, never imported by the product. Each shortcut
gives exactly the engine's result for the values it recognises (by exact type, so subclasses
are never assumed alike) and hands any other value to the engine's own function.

The codec (``DocumentCodec.encode`` and ``to_internal``): every document written is encoded
twice, at the command boundary (``to_internal``) and for storage, and each scalar costs a
validation that builds a numeric wrapper object and runs through some 25 ``isinstance`` checks;
each nested document is validated again as a whole. We validate once per document, in the
engine's own traversal order (so the same value raises the same error first), and encode by
exact type: ``str``, ``bool``, ``None``, ``int``, ``float``, ``datetime`` and ObjectId give the
engine's own output; any other type goes to the engine's function. 330 -> 40 us a message.

Deep copies: the engine deep-copies each document written several times (an update: about
ten), through ``copy.deepcopy``'s memo and per-value dispatch, rebuilding every ObjectId. A
document made only of dicts, lists (exact types, none twice: deepcopy would share that copy)
and immutable scalars is copied directly, sharing the immutable leaves, which nothing mutates;
anything else, or a call with a memo, goes to ``copy.deepcopy``. Every mongoeco module loaded
by the time the engine starts calls ours through its ``deepcopy`` name.

ObjectId equality: storage keys hold ObjectIds, so every hash-map step of a write compares
them, and mongoeco's ObjectId answers through a ``binary`` property that copies its 12 bytes
each time. Two ObjectIds (mongoeco's or pymongo's) compare their bytes directly; pymongo's own
comparison handles anything else.

Index tree nodes: each index bucket keeps its members' order in a persistent treap, and each
insertion or removal rebuilds a path of frozen dataclass nodes, each built through
``object.__setattr__`` per field. The node classes (and the collection's order chunks) are
replaced by the same dataclasses minus ``frozen`` (fields, defaults, equality, hash, repr
alike); nothing assigns to a node once built.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import sys
from typing import Any

from bson import ObjectId as PyObjectId
from mongoeco.core import codec as _codec
from mongoeco.core.bson_scalars import (
    INT64_MAX,
    INT64_MIN,
    BsonScalarOverflowError,
    normalize_utc_bson_datetime,
    validate_bson_value,
)
from mongoeco.core.codec import DocumentCodec, _InternalBsonArray, _InternalBsonDocument
from mongoeco.engines import _memory_collection
from mongoeco.types import ObjectId as EcoObjectId

# --- the codec ------------------------------------------------------------------------------

_ENGINE_ENCODE = DocumentCodec.__dict__["encode"].__func__
_ENGINE_OWN = _codec._own_internal_bson
_MARKER = DocumentCodec._MARKER
# Exact types whose validation cannot fail and whose encoding is the value itself.
_AS_IS = frozenset({str, bool, type(None), float})
_OBJECT_IDS = frozenset({EcoObjectId, PyObjectId})
_DICTS = frozenset({dict, _InternalBsonDocument})
_LISTS = frozenset({list, _InternalBsonArray})
_INTERNAL = frozenset({_InternalBsonDocument, _InternalBsonArray})


def _validate(value: object) -> None:
    """``validate_bson_value``: the same traversal (a stack), the same errors, without building
    a wrapper per scalar for the types that cannot fail."""
    pending = [value]
    while pending:
        current = pending.pop()
        kind = type(current)
        if kind in _AS_IS or kind in _OBJECT_IDS or kind is datetime.datetime:
            continue
        if kind is int:
            if current < INT64_MIN or current > INT64_MAX:
                raise BsonScalarOverflowError("integer exceeds BSON int64 range")
            continue
        if kind in _DICTS:
            for key in current:
                if not isinstance(key, str):
                    raise TypeError("BSON document keys must be strings")
            pending.extend(current.values())
            continue
        if kind in _LISTS:
            pending.extend(current)
            continue
        validate_bson_value(current)  # any other type: the engine's check of that value


def _tagged(kind: str, value: object) -> dict:
    return {_MARKER: {DocumentCodec._TYPE: kind, DocumentCodec._VALUE: value}}


def _encode_validated(value: Any) -> Any:
    """The engine's encoding of a value whose whole tree is already validated (the engine
    validates each nested document again: that cannot fail once its ancestor passed)."""
    kind = type(value)
    if kind in _AS_IS or kind is int:
        return value
    if kind in _DICTS:
        encoded = {key: _encode_validated(item) for key, item in value.items()}
        if len(encoded) == 1 and DocumentCodec._is_tagged_value(encoded):
            return _tagged("dict", encoded)
        return encoded
    if kind in _LISTS:
        return [_encode_validated(item) for item in value]
    if kind is datetime.datetime:
        return _tagged("datetime", normalize_utc_bson_datetime(value).isoformat())
    if kind is EcoObjectId:
        return _tagged("objectid", str(value))
    return _ENGINE_ENCODE(value)


def _encode(data: Any) -> Any:
    if type(data) in _DICTS:
        _validate(data)
        return _encode_validated(data)
    return _ENGINE_ENCODE(data)


def _own(data: Any) -> Any:
    """``_own_internal_bson`` by exact type; other types go to the engine's function."""
    kind = type(data)
    if kind in _INTERNAL or kind in _AS_IS or kind is int or kind is datetime.datetime:
        return data
    if kind is dict:
        return _InternalBsonDocument({key: _own(item) for key, item in data.items()})
    if kind is list:
        return _InternalBsonArray(_own(item) for item in data)
    if kind is EcoObjectId or kind is PyObjectId:
        return data
    return _ENGINE_OWN(data)


def _to_internal(data: Any) -> Any:
    if type(data) in _INTERNAL:
        return data
    return _own(DocumentCodec.decode(_encode(data), preserve_bson_wrappers=True))


# --- deep copies ----------------------------------------------------------------------------

_ENGINE_DEEPCOPY = copy.deepcopy
# Immutable leaves: a deep copy may share them (deepcopy keeps the first five and the internal
# containers as they are, and rebuilds datetimes and ObjectIds as equal immutable objects).
_SHARED = frozenset(
    {str, int, float, bool, type(None), datetime.datetime, EcoObjectId, PyObjectId, *_INTERNAL}
)


class _NotPlain(Exception):
    """A value the document copier leaves to ``copy.deepcopy``."""


def _copy_plain(value: Any, seen: set[int]) -> Any:
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is not dict and kind is not list:
        raise _NotPlain
    if id(value) in seen:  # one container twice: deepcopy would share its copy
        raise _NotPlain
    seen.add(id(value))
    if kind is list:
        return [_copy_plain(item, seen) for item in value]
    copied = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _NotPlain
        copied[key] = _copy_plain(item, seen)
    return copied


def _deepcopy(value: Any, memo: dict | None = None, _nil: Any = None) -> Any:
    """``copy.deepcopy`` of a document made of dicts, lists and immutable scalars, without
    its memo and per-value dispatch; anything else (or a memo) goes to ``copy.deepcopy``."""
    if memo is None:
        try:
            return _copy_plain(value, set())
        except _NotPlain:
            pass
    return _ENGINE_DEEPCOPY(value, memo)


def _use_fast_deepcopy() -> None:
    """Every loaded mongoeco module that calls ``deepcopy`` by that name calls ours."""
    for name, module in list(sys.modules.items()):
        if name.startswith("mongoeco") and getattr(module, "deepcopy", None) is _ENGINE_DEEPCOPY:
            module.deepcopy = _deepcopy


# --- ObjectId equality -----------------------------------------------------------------------

_PYMONGO_OBJECT_ID_EQ = PyObjectId.__eq__


def _object_id_eq(self: PyObjectId, other: object) -> Any:
    """pymongo's ``ObjectId.__eq__`` (its 12 bytes against the other's ``binary``) without
    mongoeco's ``binary`` property, which copies those bytes on every comparison."""
    kind = type(other)
    if kind is EcoObjectId or kind is PyObjectId:
        return self._ObjectId__id == other._ObjectId__id
    return _PYMONGO_OBJECT_ID_EQ(self, other)


# --- index tree nodes -----------------------------------------------------------------------


def _thawed(cls: type) -> type:
    """The same dataclass (fields, defaults, equality, hash, repr), minus ``frozen``: a frozen
    dataclass sets each slot through ``object.__setattr__``, which makes building a node cost
    several times as much. Nothing assigns to these nodes: every change builds new ones."""
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {
        "__annotations__": {field.name: field.type for field in fields},
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
    }
    for field in fields:
        if field.default is not dataclasses.MISSING:
            namespace[field.name] = field.default
    return dataclasses.dataclass(slots=True, unsafe_hash=True)(type(cls.__name__, (), namespace))


def _thaw_tree_nodes() -> None:
    for name in ("_MembershipNode", "_ExpiryNode", "_OrderChunk"):
        setattr(_memory_collection, name, _thawed(getattr(_memory_collection, name)))


def install() -> None:
    """Put these shortcuts in place (once)."""
    if DocumentCodec.encode is _encode:
        return
    DocumentCodec.encode = staticmethod(_encode)
    DocumentCodec.to_internal = staticmethod(_to_internal)
    _use_fast_deepcopy()
    EcoObjectId.__eq__ = _object_id_eq
    _thaw_tree_nodes()
