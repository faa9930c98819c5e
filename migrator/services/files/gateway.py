"""Files, the gateway path: the File repository only."""

from __future__ import annotations

from typing import Any

from migrator.gateway.core import DbGateway
from migrator.services.files.shared import TOOL_FILES_ERROR


def gw_list_for_user(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("File").find_by_user_id(user_id)


def gw_by_ids(gw: DbGateway, *, file_ids: list[str]) -> list[dict]:
    return gw.get_repository("File").find_by_file_ids(file_ids)


def gw_tool_files_by_ids(gw: DbGateway, *, file_ids: list[str], tool_resources: list[str]) -> Any:
    try:
        return gw.get_repository("File").get_tool_files_by_ids(file_ids, tool_resources)
    except Exception:
        raise RuntimeError(TOOL_FILES_ERROR) from None


def gw_find_by_file_id(gw: DbGateway, *, file_id: str, extra: dict | None = None) -> dict | None:
    return gw.get_repository("File").find_by_file_id(file_id, extra)


def gw_create(gw: DbGateway, *, data: dict, disable_ttl: bool = False) -> dict | None:
    return gw.get_repository("File").create_file(data, disable_ttl)


def gw_update(gw: DbGateway, *, data: dict) -> dict | None:
    rest = {k: v for k, v in data.items() if k != "file_id"}
    return gw.get_repository("File").update_file(data.get("file_id"), rest)


def gw_increment_usage(gw: DbGateway, *, file_id: str, inc: int = 1) -> dict | None:
    return gw.get_repository("File").update_file_usage(file_id, inc)


def gw_delete_files(gw: DbGateway, *, file_ids: list[str], user_id: str | None = None) -> int:
    return gw.get_repository("File").bulk_delete(file_ids, user_id)
