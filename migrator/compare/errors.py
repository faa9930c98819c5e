"""Server error text in English. The embedded engine (mongoeco) words some query-validation
errors in Spanish; a report should read in one language. ``english`` rewrites the known
phrases (in MongoDB's own wording where MongoDB has one) wherever they occur in an error
message, so the rest — the code, codeName and the full error document — stays as it was."""

from __future__ import annotations

import re

# (pattern, replacement): mongoeco 4.11's Spanish messages, found in its query compiler.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"(\$and|\$or|\$nor) debe recibir una lista no vac[ií]a", r"\1 must be a nonempty array"),
        (r"(\$and|\$or|\$nor) necesita una lista de filtros", r"\1 must be an array"),
        (r"(\$in|\$nin|\$all) necesita una lista", r"\1 needs an array"),
        (r"\$size necesita un entero no negativo", "$size needs a non-negative integer"),
        (
            r"\$type necesita alias string o c[oó]digo entero BSON",
            "$type needs a string alias or an integer BSON type code",
        ),
        (r"\$type necesita al menos un tipo", "$type must name at least one type"),
        (
            r"\$regex necesita un patr[oó]n string o regex compilada",
            "$regex has to be a string or a compiled regex",
        ),
        (r"\$options necesita un string", "$options has to be a string"),
        (r"\$not necesita una expresi[oó]n de operador", "$not needs a regex or a document"),
        (r"\$mod necesita una lista de dos n[uú]meros", "malformed mod, needs two numbers"),
        (r"\$mod necesita un resto num[eé]rico", "$mod needs a numeric remainder"),
        (
            r"\$mod necesita un divisor num[eé]rico distinto de cero",
            "$mod needs a non-zero numeric divisor",
        ),
        (r"\$elemMatch necesita una expresi[oó]n de filtro", "$elemMatch needs an Object"),
        (
            r"string de ObjectId debe ser de 24 hex, no (\d+)",
            r"an ObjectId string must be 24 hex characters, not \1",
        ),
        (r"ID inv[aá]lido tipo ", "invalid id of type "),
        (r" no es un hexadecimal v[aá]lido", " is not a valid hex string"),
    )
)


def english(message: str) -> str:
    """``message`` with every known Spanish phrase of the embedded engine in English."""
    for pattern, replacement in _PHRASES:
        message = pattern.sub(replacement, message)
    return message


def english_error(error: tuple[str, str] | None) -> tuple[str, str] | None:
    """An observation's ``(type, message)`` error with its message in English."""
    return None if error is None else (error[0], english(error[1]))


def error_of(exc: BaseException) -> tuple[str, str]:
    """An exception as an observation's ``(type, message)``: the remote type name where a
    gateway process named one (``.type``), else the class name; the message in English."""
    return getattr(exc, "type", None) or type(exc).__name__, english(str(exc))[:300]
