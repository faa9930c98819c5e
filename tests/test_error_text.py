"""Server error text reads in English in verdicts, whatever language the engine answers in."""

from __future__ import annotations

import pytest
from pymongo.database import Database
from pymongo.errors import OperationFailure

from migrator.compare import Observation, compare
from migrator.compare.errors import english


def test_known_spanish_phrases_become_english_and_the_rest_is_kept() -> None:
    raw = (
        "$and debe recibir una lista no vacia, full error: {'ok': 0.0, 'errmsg': '$and debe "
        "recibir una lista no vacia', 'code': 2, 'codeName': 'BadValue'}"
    )
    assert english(raw) == (
        "$and must be a nonempty array, full error: {'ok': 0.0, 'errmsg': '$and must be a "
        "nonempty array', 'code': 2, 'codeName': 'BadValue'}"
    )
    assert english("$nin necesita una lista") == "$nin needs an array"
    assert english("Unsupported query operator: $bogus") == "Unsupported query operator: $bogus"


def test_verdicts_carry_english_error_text() -> None:
    legacy = Observation(
        value=None, error=("OperationFailure", "$or debe recibir una lista no vacia")
    )
    gateway = Observation(value=[], error=None)
    verdict = compare(legacy, gateway)
    assert verdict.differences[0].legacy == ("OperationFailure", "$or must be a nonempty array")


def test_the_engine_error_is_translated(mongo_db: Database) -> None:
    """Whatever the server (mongoeco words it in Spanish, MongoDB in English), the translated
    text of an empty `$and` error is English."""
    with pytest.raises(OperationFailure) as caught:
        mongo_db.tokens.find_one({"$and": []})
    text = english(str(caught.value))
    assert "debe" not in text and "$and" in text
