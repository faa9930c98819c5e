"""Agent and AclEntry repositories (IAgentRepository, §6; the ACL methods of B's data-schemas
``aclEntry`` / ``userGroup`` / ``accessRole`` that ``PermissionService`` calls, §4.6).

The list methods own their cursor handling (base64 JSON ``{updatedAt, _id}``), written here
independently of the legacy path so that the comparison can catch a codec or casting slip.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from migrator import model
from migrator.gateway.repository import Doc, Repository, as_object_id, parse_date, utcnow

EPOCH = datetime(1970, 1, 1)
PRINCIPAL_MODELS = {"user": "User", "group": "Group", "role": "Role"}
AGENT_LIST_SELECT: dict[str, int] = dict.fromkeys(
    (
        "id", "_id", "name", "avatar", "author", "projectIds", "description", "updatedAt",
        "category", "support_contact", "is_promoted",
    ),
    1,
)  # fmt: skip
_MISSING: Any = object()


# --- cursors: base64(JSON.stringify({updatedAt: toISOString(), _id: hex})) -------------------


def iso_ms(value: datetime) -> str:
    """JS ``Date.prototype.toISOString``: always milliseconds and a ``Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def encode_cursor(doc: Mapping[str, Any]) -> str:
    payload = {"updatedAt": iso_ms(doc["updatedAt"]), "_id": str(doc["_id"])}
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _node_base64(text: str) -> bytes:
    # Node's Buffer.from(s, 'base64') accepts the URL-safe alphabet, skips other characters
    # and needs no padding.
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    chars = [c for c in text.replace("-", "+").replace("_", "/") if c in alphabet]
    if len(chars) % 4 == 1:
        chars.pop()
    body = "".join(chars)
    return base64.b64decode(body + "=" * (-len(body) % 4))


def decode_cursor(after: str) -> tuple[Any, ObjectId] | None:
    """(raw updatedAt, _id) of a list cursor; None when LibreChat would log "Invalid cursor"
    and ignore it (undecodable JSON, ``null``, or an ``_id`` ``new ObjectId`` rejects)."""
    try:
        payload = json.loads(_node_base64(after).decode("utf-8", errors="replace"))
    except (ValueError, binascii.Error):
        return None
    if payload is None:
        return None  # destructuring null throws inside the try
    fields = payload if isinstance(payload, dict) else {}
    raw_id = fields.get("_id")
    if raw_id is None:
        object_id = ObjectId()  # new ObjectId(undefined | null) generates a fresh id
    elif isinstance(raw_id, str):
        try:
            object_id = ObjectId(raw_id)
        except InvalidId:
            return None
    else:
        return None
    return fields.get("updatedAt", _MISSING), object_id


def js_date(value: Any) -> datetime | None:
    """JS ``new Date(value)``; None for an Invalid Date."""
    if value is _MISSING:
        return None
    if value is None:
        return EPOCH  # new Date(null) is the epoch
    if isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=int(value))
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:
            return EPOCH + timedelta(milliseconds=int(value))
        except OverflowError:
            return None
    if isinstance(value, str):
        parsed = parse_date(value)
        if isinstance(parsed, datetime):
            return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)
    return None


def cursor_condition(after: Any, *, invalid_date: str) -> dict[str, Any] | None:
    """The ``$or`` page condition of a cursor, or None when the cursor is ignored.

    ``invalid_date`` says what an Invalid Date becomes: ``"cast"`` raises Mongoose's CastError
    (a cast ``find``), ``"epoch"`` is what the BSON serialiser sends for NaN in an uncast
    aggregation (``Long.fromNumber(NaN)`` is 0).
    """
    if not after or not isinstance(after, str):
        return None
    decoded = decode_cursor(after)
    if decoded is None:
        return None
    raw_date, object_id = decoded
    when = js_date(raw_date)
    if when is None:
        if invalid_date == "cast":
            raise model.CastError("updatedAt", raw_date, "date")
        when = EPOCH
    return {"$or": [{"updatedAt": {"$lt": when}}, {"updatedAt": when, "_id": {"$gt": object_id}}]}


def list_page(rows: list[Doc], limit: int | None, row_id: Callable[[Doc], Any]) -> dict[str, Any]:
    """The ``{object: 'list', ...}`` page of a limit+1 query, ``author`` as a hex string; the
    cursor is the last *returned* row."""
    if limit is None:
        data, has_more, after = rows, False, None
    else:
        has_more = len(rows) > limit
        data = rows[:limit]
        after = encode_cursor(rows[limit - 1]) if has_more and data else None
    for row in data:
        if row.get("author"):
            row["author"] = str(row["author"])
    return {
        "object": "list",
        "data": data,
        "first_id": row_id(data[0]) if data else None,
        "last_id": row_id(data[-1]) if data else None,
        "has_more": has_more,
        "after": after,
    }


def principal_source_pipeline(user_id: ObjectId) -> list[dict[str, Any]]:
    """One aggregation on ``users`` giving what ``getUserPrincipals`` reads: the role and the
    groups listing the user (by ``idOnTheSource``, else the id's hex) as members. ``groups``
    has no repository in the registry yet, hence the ``$lookup``."""
    member = {
        "$cond": [
            {"$in": [{"$ifNull": ["$idOnTheSource", ""]}, ["", None]]},
            str(user_id),
            "$idOnTheSource",
        ]
    }
    members = {"$cond": [{"$isArray": "$memberIds"}, "$memberIds", ["$memberIds"]]}
    return [
        {"$match": {"_id": user_id}},
        {"$project": {"role": 1, "idOnTheSource": 1}},
        {
            "$lookup": {
                "from": "groups",
                "let": {"member": member},
                "pipeline": [
                    {"$match": {"$expr": {"$in": ["$$member", members]}}},
                    {"$project": {"_id": 1}},
                ],
                "as": "groups",
            }
        },
    ]


# --- repositories ---------------------------------------------------------------------------


class AgentRepository(Repository):
    collection_name = "agents"
    REQUIRED = ("id", "provider", "model", "author")

    def cast_value(self, field: str, value: Any) -> Any:
        # `category` is declared with `trim: true`: the setter runs on saves and query casts.
        if field.split(".", 1)[0] == "category" and isinstance(value, str):
            return value.strip()
        return super().cast_value(field, value)

    def create(self, data: Mapping[str, Any]) -> Doc:
        doc = self.new_document(data, utcnow())
        missing = [f for f in self.REQUIRED if doc.get(f) in (None, "")]
        if missing:
            raise ValueError(f"Agent validation failed: {', '.join(missing)} required")
        self.collection.insert_one(doc, session=self.session)
        return doc

    def get_agent(self, query: Mapping[str, Any]) -> Doc | None:
        return self.find_one(query)

    def count_promoted_agents(self) -> int:
        return self.count({"is_promoted": True})

    def get_list_agents_by_access(
        self,
        accessible_ids: Sequence[ObjectId],
        other_params: Mapping[str, Any],
        limit: int | None,
        after: str | None,
    ) -> dict[str, Any]:
        """One page of the agents the caller may see, newest first (``updatedAt``, ``_id``)."""
        query: dict[str, Any] = {**other_params, "_id": {"$in": list(accessible_ids)}}
        condition = cursor_condition(after, invalid_date="cast")
        if condition is not None:
            query = {"$and": [query, condition]}
        rows = self.find(
            query,
            select=AGENT_LIST_SELECT,
            sort={"updatedAt": -1, "_id": 1},
            limit=limit + 1 if limit is not None else 0,
        )
        return list_page(rows, limit, row_id=lambda agent: agent.get("id"))


class AclEntryRepository(Repository):
    collection_name = "aclentries"

    def cast_value(self, field: str, value: Any) -> Any:
        # principalId is Mixed (an ObjectId for users and groups, the role name for roles):
        # Mongoose leaves it as given, unlike a String path.
        if field.split(".", 1)[0] == "principalId":
            return value
        return super().cast_value(field, value)

    def find_access_role(self, access_role_id: str) -> Doc | None:
        """The ``accessroles`` document (``findRoleByIdentifier``). That collection has no
        repository in the registry yet (see the report), so it is read with ``$unionWith``
        through this repository's own collection handle."""
        rows = self.aggregate(
            [
                {"$limit": 0},
                {
                    "$unionWith": {
                        "coll": "accessroles",
                        "pipeline": [{"$match": {"accessRoleId": access_role_id}}, {"$limit": 1}],
                    }
                },
            ]
        )
        return rows[0] if rows else None

    def get_user_principals(self, user_id: ObjectId, user: Mapping[str, Any] | None) -> list[Doc]:
        """user, role (when set), the user's groups, public — the order B builds them.

        ``user`` is the row of ``principal_source_pipeline`` (role, idOnTheSource, groups), or
        None for an unknown user (then no role and no groups)."""
        principals: list[Doc] = [{"principalType": "user", "principalId": user_id}]
        role = (user or {}).get("role")
        if isinstance(role, str) and role.strip():
            principals.append({"principalType": "role", "principalId": role})
        for group in (user or {}).get("groups", []):
            principals.append({"principalType": "group", "principalId": group["_id"]})
        principals.append({"principalType": "public"})
        return principals

    def find_accessible_resources(
        self, principals: Sequence[Mapping[str, Any]], resource_type: str, required_bits: int
    ) -> list[ObjectId]:
        alternatives = [
            {"principalType": p["principalType"]}
            if p["principalType"] == "public"
            else {"principalType": p["principalType"], "principalId": p["principalId"]}
            for p in principals
        ]
        return self.distinct(
            "resourceId",
            {
                "$or": alternatives,
                "resourceType": resource_type,
                "permBits": {"$bitsAllSet": required_bits},
            },
        )

    def find_publicly_accessible_resources(
        self, resource_type: str, required_bits: int
    ) -> list[ObjectId]:
        return self.distinct(
            "resourceId",
            {
                "principalType": "public",
                "resourceType": resource_type,
                "permBits": {"$bitsAllSet": required_bits},
            },
        )

    def grant_permission(
        self,
        principal_type: str,
        principal_id: Any,
        resource_type: str,
        resource_id: Any,
        perm_bits: int,
        granted_by: Any,
        role_id: Any = None,
    ) -> Doc | None:
        """Upsert the entry of one principal on one resource (``$set`` bits, grantor, time)."""
        query: dict[str, Any] = {
            "principalType": principal_type,
            "resourceType": resource_type,
            "resourceId": resource_id,
        }
        if principal_type != "public":
            query["principalId"] = (
                as_object_id(principal_id, "principalId")
                if principal_type in ("user", "group")
                else principal_id
            )
            query["principalModel"] = PRINCIPAL_MODELS[principal_type]
        changes: dict[str, Any] = {
            "permBits": perm_bits,
            "grantedBy": granted_by,
            "grantedAt": utcnow(),
        }
        if role_id:
            changes["roleId"] = role_id
        return self.find_one_and_update(query, {"$set": changes}, upsert=True)
