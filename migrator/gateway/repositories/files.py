"""File repository (IFileRepository, docs/librechat.md §6), queries of §4.4 (column B).

Mongoose behaviours (casting ``user`` to ObjectId, strict updates, timestamps, upsert defaults,
``__v``) come from the base ``Repository``; this class only knows the entity's own queries.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from migrator import model
from migrator.gateway.repository import Doc, Repository, utcnow

# createFile: uploads not yet referenced by a message expire (TTL index: 1 h after the value).
FILE_TTL = timedelta(hours=1)
# getFiles' default projection: extracted text stays out of list reads.
LIST_SELECT: dict[str, int] = {"text": 0}


class FileRepository(Repository):
    collection_name = "files"

    # -- reads -----------------------------------------------------------------------------

    def get_files(
        self,
        query: Mapping[str, Any],
        sort: Mapping[str, int] | None = None,
        select: Mapping[str, int] | None = None,
    ) -> list[Doc]:
        """``getFiles``: most recently updated first; the caller's sort keys are merged after."""
        order: dict[str, int] = {"updatedAt": -1, **(sort or {})}
        return self.find(query, select=select or LIST_SELECT, sort=order)

    def find_by_user_id(self, user_id: Any) -> list[Doc]:
        return self.get_files({"user": user_id})

    def find_by_file_ids(self, file_ids: Iterable[str]) -> list[Doc]:
        # No owner scope: B's delete route and agent file lookups query by file_id only.
        return self.get_files({"file_id": {"$in": list(file_ids)}})

    def find_by_file_id(self, file_id: str, extra: Mapping[str, Any] | None = None) -> Doc | None:
        """``findFileById``: the extra conditions are spread after ``file_id`` (text included)."""
        return self.find_one({"file_id": file_id, **(extra or {})})

    def get_tool_files_by_ids(self, file_ids: Sequence[str], tool_resources: Iterable[str]) -> Any:
        """Files usable by an agent's tools: OCR'd text, vectorised, or code-environment files."""
        resources = set(tool_resources or ())
        if not file_ids or not resources:
            return []
        either: list[dict[str, Any]] = []
        if model.TOOL_RESOURCE_TEXT in resources:
            either.append({"text": {"$exists": True, "$ne": None}, "context": "agents"})
        if model.TOOL_RESOURCE_FILE_SEARCH in resources:
            either.append({"embedded": True})
        if model.TOOL_RESOURCE_EXECUTE_CODE in resources:
            either.append({"metadata.fileIdentifier": {"$exists": True}})
        return self.get_files(
            {"file_id": {"$in": list(file_ids)}, "$or": either}, {"updatedAt": -1}, LIST_SELECT
        )

    # -- writes ----------------------------------------------------------------------------

    def create_file(self, data: Mapping[str, Any], disable_ttl: bool = False) -> Doc | None:
        """``createFile``: upsert by file_id with a one-hour TTL unless disabled."""
        file_data = {**data, "expiresAt": utcnow() + FILE_TTL}
        if disable_ttl:
            del file_data["expiresAt"]
        return self.find_one_and_update({"file_id": data.get("file_id")}, file_data, upsert=True)

    def update_file(self, file_id: str, data: Mapping[str, Any]) -> Doc | None:
        """``updateFile``: $set the data and drop the TTL."""
        return self.find_one_and_update(
            {"file_id": file_id}, {"$set": dict(data), "$unset": {"expiresAt": ""}}
        )

    def update_file_usage(self, file_id: str, inc: int = 1) -> Doc | None:
        """``updateFileUsage``: count a use and make the upload permanent."""
        return self.find_one_and_update(
            {"file_id": file_id},
            {"$inc": {"usage": inc}, "$unset": {"expiresAt": "", "temp_file_id": ""}},
        )

    def bulk_delete(self, file_ids: Sequence[str] | None, user_id: Any = None) -> int:
        """``deleteFiles``: LibreChat replaces the id filter by ``{user}`` when a user is given,
        deleting every file of that user (§4.4, §8) — reproduced, not fixed."""
        query: dict[str, Any] = {"file_id": {"$in": list(file_ids or [])}}
        if user_id:
            query = {"user": user_id}
        return self.delete_many(query)
