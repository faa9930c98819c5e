"""The legacy path sends what Mongoose 8 sends (LibreChat B locks mongoose ^8.12.1). Each test
names the lines of mongoose ``lib/cast.js`` (tags 8.12.1-8.18.0) it mirrors, and checks the
built-in gateway's base repository casts the same way."""

from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo.database import Database

from migrator import model
from migrator.gateway.core import DbGateway
from migrator.gateway.repositories.auth import TokenRepository
from migrator.gateway.repositories.files import FileRepository
from migrator.gateway.repositories.prompts import PromptGroupRepository
from migrator.services.auth import gateway as auth_gw
from migrator.services.auth import legacy as auth_legacy
from migrator.services.mongoose import cast_filter
from migrator.services.prompts import gateway as prompts_gw
from migrator.services.prompts import legacy as prompts_legacy
from migrator.services.prompts.shared import PromptGroupSaveError

HEX = "65a000000000000000000001"


def _gateway_filter(collection: str, query: dict, upsert: bool = False) -> dict:
    repos = {
        "tokens": TokenRepository,
        "files": FileRepository,
        "promptgroups": PromptGroupRepository,
    }
    return repos[collection](None).filter(query, upsert=upsert)  # type: ignore[arg-type]


@pytest.mark.parametrize("cast", [cast_filter, _gateway_filter])
def test_empty_logical_operators_are_deleted(cast) -> None:
    """lib/cast.js lines 87-90: `delete empty: {$or: []} -> {}` for $and, $or and $nor."""
    assert cast("tokens", {"$and": []}) == {}
    assert cast("files", {"file_id": {"$in": ["a"]}, "$or": [], "$nor": []}) == {
        "file_id": {"$in": ["a"]}
    }


@pytest.mark.parametrize("cast", [cast_filter, _gateway_filter])
def test_elements_emptied_by_strict_query_are_spliced(cast) -> None:
    """lib/cast.js lines 73-84: an element whose every path strictQuery dropped is removed (a
    filter that was `{}` to begin with stays); then the empty operator goes too."""
    assert cast("files", {"$or": [{"tenantId": "t"}]}) == {}
    assert cast("files", {"$or": [{"tenantId": "t"}, {}]}) == {"$or": [{}]}
    assert cast("files", {"$and": [{"tenantId": "t", "embedded": True}]}) == {
        "$and": [{"embedded": True}]
    }


@pytest.mark.parametrize("cast", [cast_filter, _gateway_filter])
def test_unknown_paths_strict_query_and_upsert(cast) -> None:
    """lib/cast.js line 311 (strictQuery, true in LibreChat's connect.js) deletes an unknown
    path; lines 301-306 throw a StrictModeError instead when the query is an upsert."""
    assert cast("files", {"file_id": "f", "tenantId": "t"}) == {"file_id": "f"}
    with pytest.raises(model.StrictModeError, match='Path "notInSchema" is not in schema'):
        cast("promptgroups", {"name": "x", "notInSchema": True}, upsert=True)


@pytest.mark.parametrize("cast", [cast_filter, _gateway_filter])
def test_operands_take_the_path_type(cast) -> None:
    """lib/cast.js lines 313-392 (castForQuery per $conditional): the elements of $in/$nin and
    the operands of $ne... on an ObjectId path are cast; an invalid hex is a CastError."""
    got = cast("files", {"user": {"$in": [HEX], "$ne": HEX}, "$or": [{"user": {"$nin": [HEX]}}]})
    assert got == {
        "user": {"$in": [ObjectId(HEX)], "$ne": ObjectId(HEX)},
        "$or": [{"user": {"$nin": [ObjectId(HEX)]}}],
    }
    with pytest.raises(model.CastError):
        cast("files", {"user": {"$in": ["not-hex"]}})


def test_find_token_without_conditions_returns_the_first_token(mongo_db: Database) -> None:
    """data-schemas findToken (B) with no truthy key sends `{$and: []}`; Mongoose deletes it
    (lib/cast.js lines 87-90), so LibreChat reads `findOne({})` instead of a server error."""
    user = ObjectId()
    mongo_db.tokens.insert_many(
        [{"userId": user, "token": f"t{i}", "type": "oauth", "identifier": f"i{i}"} for i in (1, 2)]
    )
    first = mongo_db.tokens.find_one({})
    gw = DbGateway(mongo_db)
    for conditions in ({}, {"userId": "", "token": None}):
        assert auth_legacy.find_token(mongo_db, **conditions) == first
        assert auth_gw.gw_find_token(gw, **conditions) == first
    # B has no `type` condition (model.TOKEN_QUERY_KEYS): it does not narrow the lookup
    second = {"userId": str(user), "identifier": "i2", "type": "no-such-type"}
    assert auth_legacy.find_token(mongo_db, **second)["token"] == "t2"
    assert auth_gw.gw_find_token(gw, **second)["token"] == "t2"


def test_prompt_group_upsert_with_an_unknown_key_fails(mongo_db: Database) -> None:
    """createPromptGroup's filter is `{...group, author, authorName, productionId: null}` with
    `upsert: true`: a key outside the schema is a StrictModeError (lib/cast.js lines 301-306),
    rethrown as 'Error saving prompt group'; nothing is written."""
    args = {
        "user_id": HEX,
        "author_name": "A",
        "prompt": {"prompt": "p", "type": "text"},
        "group": {"name": "g", "notInSchema": True},
    }
    with pytest.raises(PromptGroupSaveError):
        prompts_legacy.create_prompt_group(mongo_db, **args)
    with pytest.raises(PromptGroupSaveError):
        prompts_gw.gw_create_prompt_group(DbGateway(mongo_db), **args)
    assert mongo_db.promptgroups.count_documents({}) == 0
