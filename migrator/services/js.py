"""JavaScript semantics the port reproduces in Python: what LibreChat's JavaScript does with
the values a request or a document carries (``parseInt``, truthiness, ``String()``, ``isNaN``,
``JSON.stringify``, ``===``, ``new Date()``, ``toISOString()``, ``Buffer.from(.., 'base64')``).

Application code both paths share (query parsing, the duplicate-version check) and the legacy
path's spelling of Mongoose use them; the reference Node gateway has the same helpers in
``examples/node-gateway/lib/js.js``.
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1)
UNDEFINED: Any = object()  # JS `undefined` where it differs from `null` (a missing key)
_JS_NUMBER = re.compile(
    r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|0[xX][0-9a-fA-F]+|0[oO][0-7]+"
    r"|0[bB][01]+"
)


def js_parse_int(value: Any, radix: int | None = None) -> float:
    """JS ``parseInt``: the leading integer of ``String(value)``, or NaN (``math.nan``)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float(int(value)) if math.isfinite(value) else math.nan
    if not isinstance(value, str):
        return math.nan
    text = value.lstrip()
    sign = -1 if text.startswith("-") else 1
    text = text[1:] if text[:1] in "+-" and text else text
    if radix in (None, 16) and text[:2].lower() == "0x":
        digits = re.match(r"[0-9a-fA-F]*", text[2:]).group()
        return sign * int(digits, 16) if digits else math.nan
    digits = re.match(r"[0-9]*", text).group()
    return sign * int(digits) if digits else math.nan


def js_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True  # objects and arrays, even empty ones


def js_string(value: Any) -> str:
    """JS ``String(value)`` for the values query strings and documents hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def js_is_nan(value: Any) -> bool:
    """JS global ``isNaN(value)``: true when ``Number(value)`` is NaN."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return isinstance(value, float) and math.isnan(value)
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and _JS_NUMBER.fullmatch(text) is None
    return True  # objects (other than [] / [n], which nobody sends) convert to NaN


def js_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.strftime("%Y-%m-%dT%H:%M:%S.") + f"{obj.microsecond // 1000:03d}Z"
        return str(obj)

    return json.dumps(value, separators=(",", ":"), default=default, ensure_ascii=False)


def js_strict_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return a is b
    return type(a) is type(b) and a == b


def js_object_keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []  # Dates, ObjectIds: no own keys


def iso(value: datetime) -> str:
    """JS ``Date.prototype.toISOString()``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def legacy_js_date(value: Any) -> datetime | None:
    """``new Date(value)`` (None = Invalid Date); dates keep milliseconds only."""
    if value is UNDEFINED:
        return None
    if value is None or isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=int(bool(value)))
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:  # beyond what a datetime holds (year 9999): treated as Invalid Date
            return EPOCH + timedelta(milliseconds=int(value))
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def buffer_from_base64(text: str) -> bytes:
    # Buffer.from(text, 'base64'): URL-safe characters accepted, others skipped, no padding
    # needed; a lone trailing character carries no byte.
    text = text.replace("-", "+").replace("_", "/")
    body = "".join(re.findall(r"[A-Za-z0-9+/]", text))
    if len(body) % 4 == 1:
        body = body[:-1]
    return base64.b64decode(body + "=" * (-len(body) % 4))
