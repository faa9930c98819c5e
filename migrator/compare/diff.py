"""``compare(legacy, gateway, rules) -> Verdict``: the one public entry of the compare engine.

Normalise both observations, diff them with deepdiff, and classify each difference with the
taxonomy of docs/design.md (pt-upgrade and migration-verifier's kinds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrator.compare.errors import english_error
from migrator.compare.normalize import normalize, path_matches
from migrator.compare.rules import Rules

MATCH, IGNORED, MISMATCH, ERROR, BOTH_ERROR, TIMEOUT, NOISE = (
    "match",
    "ignored",
    "mismatch",
    "error",
    "both-error",
    "timeout",
    "noise",
)
PASSING = frozenset({MATCH, IGNORED, NOISE})

# Difference kinds (the mismatch taxonomy).
COUNT = "count differs"
MISSING = "document missing"
EXTRA = "document extra"
FIELD_MISSING = "field missing"
FIELD_EXTRA = "field extra"
VALUE = "field value differs"
TYPE = "type differs"
ORDER = "order only"
ONE_SIDE_ERROR = "error on one side"
ERROR_DIFFERS = "errors differ"


@dataclass(frozen=True)
class Observation:
    """What one path did for one input."""

    value: Any = None
    error: tuple[str, str] | None = None  # (type name, message)
    timed_out: bool = False
    wall_ns: int = 0
    cpu_ns: int = 0


@dataclass(frozen=True)
class Difference:
    kind: str
    path: str
    legacy: Any = None
    gateway: Any = None
    doc: Any = None  # the key of the document it is in ({"_id": ...}), when there is one


class DocKey(str):
    """A list of documents becomes a dict keyed by each document's identity, so deepdiff says
    'document missing' instead of 'every later element changed'."""

    def __new__(cls, field: str, value: Any, doc: dict | None = None) -> DocKey:
        obj = super().__new__(cls, f"{field}={value}")
        # The document's identity as reported: every key field it has (its _id and its
        # LibreChat id: messageId, conversationId, file_id, ...).
        obj.key = {f: doc[f] for f in KEY_FIELDS if f in doc} if doc else {field: value}
        return obj


KEY_FIELDS = ("_id", "messageId", "conversationId", "file_id", "id", "email", "tag")


@dataclass
class Verdict:
    status: str
    differences: list[Difference] = field(default_factory=list)
    rules_applied: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status in PASSING or (self.status == BOTH_ERROR and not self.differences)


def compare(
    legacy: Observation,
    gateway: Observation,
    rules: Rules | None = None,
    noise: tuple[str, ...] = (),
) -> Verdict:
    rules = rules or Rules()
    if legacy.timed_out or gateway.timed_out:
        return Verdict(TIMEOUT)
    if legacy.error or gateway.error:
        left_error, right_error = english_error(legacy.error), english_error(gateway.error)
        if left_error and right_error:
            same = left_error[0] == right_error[0]
            diffs = [] if same else [Difference(ERROR_DIFFERS, "", left_error, right_error)]
            return Verdict(BOTH_ERROR, diffs)
        return Verdict(
            ERROR,
            [
                Difference(
                    ONE_SIDE_ERROR, "", left_error or legacy.value, right_error or gateway.value
                )
            ],
        )
    applied: set[str] = set()
    left = normalize(legacy.value, rules, applied=applied)
    right = normalize(gateway.value, rules, applied=applied)
    diffs = differences(left, right)
    if not diffs:
        if applied and differences(_exact(legacy.value), _exact(gateway.value)):
            return Verdict(IGNORED, rules_applied=tuple(sorted(applied)))
        return Verdict(MATCH)
    if noise and all(path_matches(d.path, noise) for d in diffs):
        return Verdict(NOISE, diffs)
    return Verdict(MISMATCH, diffs)


def _exact(value: Any) -> Any:
    return normalize(value, Rules(datetime_ms=False))


def _path(level: Any) -> tuple[str, Any]:
    """deepdiff's path without list positions or document keys (``conversations.updatedAt``),
    and the key of the innermost document on it."""
    parts, doc = [], None
    for p in level.path(output_format="list"):
        if isinstance(p, DocKey):
            doc = p.key
        elif not isinstance(p, int):
            parts.append(str(p))
    return ".".join(parts), doc


def _keyed(left: Any, right: Any) -> tuple[Any, Any]:
    """Both sides with their lists of documents keyed by one identity field that is present
    and unique on both sides (decided jointly, so the two shapes always agree)."""
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = {k: _keyed(left[k], right[k]) for k in left.keys() & right.keys()}
        return (
            {k: pairs[k][0] if k in pairs else v for k, v in left.items()},
            {k: pairs[k][1] if k in pairs else v for k, v in right.items()},
        )
    if isinstance(left, list) and isinstance(right, list):
        field_name = next(
            (f for f in KEY_FIELDS if _identifies(left, f) and _identifies(right, f)), None
        )
        if field_name is not None:
            lk = {DocKey(field_name, d[field_name], d): d for d in left}
            rk = {DocKey(field_name, d[field_name], d): d for d in right}
            return _keyed(lk, rk)
        if len(left) == len(right):
            pairs = [_keyed(a, b) for a, b in zip(left, right, strict=True)]
            return [p[0] for p in pairs], [p[1] for p in pairs]
    return left, right


def _identifies(items: list[Any], field_name: str) -> bool:
    """Every item is a document holding ``field_name``, and no two share its value."""
    if not all(isinstance(d, dict) and field_name in d for d in items):
        return False
    keys = [repr(d[field_name]) for d in items]
    return len(set(keys)) == len(keys)


def differences(left: Any, right: Any) -> list[Difference]:
    """Classified differences between two normalised values."""
    if left == right:
        return []
    same_items = (
        isinstance(left, list)
        and isinstance(right, list)
        and len(left) == len(right)
        and sorted(map(repr, left)) == sorted(map(repr, right))
    )
    if same_items:
        return [Difference(ORDER, "", _ids(left), _ids(right))]
    if isinstance(left, dict) and right is None:
        return [Difference(MISSING, "", _key(left), None, _key(left))]
    if left is None and isinstance(right, dict):
        return [Difference(EXTRA, "", None, _key(right), _key(right))]
    if _is_count(left) and _is_count(right):
        return [Difference(COUNT, "", left, right)]
    from deepdiff import DeepDiff  # on first use: it pulls in pandas (slow to import)

    keyed_left, keyed_right = _keyed(left, right)
    tree = DeepDiff(
        keyed_left,
        keyed_right,
        view="tree",
        ignore_order=False,
        verbose_level=2,
        threshold_to_diff_deeper=0,
    )
    out: list[Difference] = []
    for kind, levels in tree.items():
        for level in levels:
            path, doc = _path(level)
            t1, t2 = getattr(level, "t1", None), getattr(level, "t2", None)
            last = level.path(output_format="list")[-1:] or [None]
            is_doc = isinstance(last[0], DocKey)
            if kind == "type_changes":
                out.append(Difference(TYPE, path, _typed(t1), _typed(t2), doc))
            elif kind == "values_changed":
                out.append(Difference(VALUE, path, t1, t2, doc))
            elif kind == "dictionary_item_removed":
                out.append(
                    Difference(
                        MISSING if is_doc else FIELD_MISSING,
                        path,
                        last[0].key if is_doc else t1,
                        None,
                        doc,
                    )
                )
            elif kind == "dictionary_item_added":
                out.append(
                    Difference(
                        EXTRA if is_doc else FIELD_EXTRA,
                        path,
                        None,
                        last[0].key if is_doc else t2,
                        doc,
                    )
                )
            elif kind == "iterable_item_removed":
                out.append(
                    Difference(
                        MISSING if isinstance(t1, dict) else VALUE, path, _key(t1), None, doc
                    )
                )
            elif kind == "iterable_item_added":
                out.append(
                    Difference(EXTRA if isinstance(t2, dict) else VALUE, path, None, _key(t2), doc)
                )
            else:
                out.append(Difference(VALUE, path, t1, t2, doc))
    if not out and isinstance(keyed_left, dict) and keyed_left == keyed_right:
        path, left_items, right_items = _reordered(left, right)
        return [Difference(ORDER, path, _ids(left_items), _ids(right_items))]
    if isinstance(left, list) and isinstance(right, list) and len(left) != len(right):
        out.insert(0, Difference(COUNT, "", len(left), len(right)))
    return out


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _typed(value: Any) -> str:
    return f"{type(value).__name__}: {value!r}"[:200]


def _key(doc: Any) -> Any:
    """A document's identity for missing/extra reports: its key fields, not the whole body."""
    if isinstance(doc, dict):
        for key in KEY_FIELDS:
            if key in doc:
                return {key: doc[key]}
    return doc


def _reordered(left: Any, right: Any, path: str = "") -> tuple[str, Any, Any]:
    """The path of the (first) list whose items differ only in order, and both lists."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in left:
            if key in right and left[key] != right[key]:
                return _reordered(left[key], right[key], f"{path}.{key}" if path else str(key))
    return path, left, right


def _ids(items: Any) -> list[Any]:
    if not isinstance(items, list):
        return [_key(items)]
    return [_key(d) for d in items[:10]]
