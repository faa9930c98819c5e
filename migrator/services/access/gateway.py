"""The gateway path of the by-access lists: the same ACL lookups through the User and
AclEntry repositories only.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from migrator.gateway.core import DbGateway
from migrator.gateway.repositories.agents import principal_source_pipeline
from migrator.services.access import BUILTIN_ACCESS_ROLES, VIEW, check_required_permission
from migrator.services.base import catch_all


def gw_principals(gw: DbGateway, user_id: Any) -> list[dict[str, Any]]:
    uid = ObjectId(user_id)
    rows = gw.get_repository("User").aggregate(principal_source_pipeline(uid))
    return gw.get_repository("AclEntry").get_user_principals(uid, rows[0] if rows else None)


def gw_accessible(gw: DbGateway, user_id: Any, resource_type: str, required: Any) -> list:
    check_required_permission(required)
    return _accessible_ids(gw, user_id, resource_type, required)


@catch_all([])
def _accessible_ids(gw: DbGateway, user_id: Any, resource_type: str, required: Any) -> list:
    principals = gw_principals(gw, user_id)
    return gw.get_repository("AclEntry").find_accessible_resources(
        principals, resource_type, required
    )


@catch_all([])
def gw_public(gw: DbGateway, resource_type: str) -> list:
    return gw.get_repository("AclEntry").find_publicly_accessible_resources(resource_type, VIEW)


@catch_all(None)
def gw_grant_owner(gw: DbGateway, *, user_id: Any, resource_type: str, resource_id: Any) -> None:
    acl = gw.get_repository("AclEntry")
    access_role_id = f"{resource_type}_owner"
    role = acl.find_access_role(access_role_id)
    acl.grant_permission(
        "user",
        user_id,
        resource_type,
        resource_id,
        role["permBits"] if role else BUILTIN_ACCESS_ROLES[access_role_id],
        user_id,
        role_id=role["_id"] if role else None,
    )
