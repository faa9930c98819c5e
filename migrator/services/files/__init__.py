"""Files: uploads, attachments and agent tool files (docs/librechat.md §4.4, column B).

``legacy`` is direct pymongo calls spelling out what Mongoose does in ``api/models/File.js``;
``gateway`` calls the File repository only.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.base import Operation
from migrator.services.files import gateway, inputs, legacy

FILES_WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "expiresAt"))

OPERATIONS = [
    Operation(
        "files.list_for_user",
        "read",
        legacy.list_for_user,
        gateway.gw_list_for_user,
        inputs.file_users,
        hazards=dict.fromkeys(inputs.OWNER_HAZARDS, "user"),
    ),
    Operation(
        "files.by_ids",
        "read",
        legacy.by_ids,
        gateway.gw_by_ids,
        inputs.file_id_lists,
        hazards=dict.fromkeys(inputs.FILE_HAZARDS, "file_id"),
    ),
    Operation(
        "files.tool_files_by_ids",
        "read",
        legacy.tool_files_by_ids,
        gateway.gw_tool_files_by_ids,
        inputs.tool_file_args,
    ),
    Operation(
        "files.find_by_file_id",
        "read",
        legacy.find_by_file_id,
        gateway.gw_find_by_file_id,
        inputs.file_id_args,
        hazards=dict.fromkeys(inputs.FILE_HAZARDS, "file_id"),
    ),
    Operation(
        "files.create",
        "write",
        legacy.create,
        gateway.gw_create,
        inputs.new_files,
        rules=FILES_WRITE_RULES,
        footprint=inputs.create_footprint,
    ),
    Operation(
        "files.update",
        "write",
        legacy.update,
        gateway.gw_update,
        inputs.file_updates,
        rules=FILES_WRITE_RULES,
        footprint=inputs.update_footprint,
    ),
    Operation(
        "files.increment_usage",
        "write",
        legacy.increment_usage,
        gateway.gw_increment_usage,
        inputs.usage_args,
        rules=FILES_WRITE_RULES,
        footprint=inputs.usage_footprint,
    ),
    Operation(
        "files.delete_files",
        "write",
        legacy.delete_files,
        gateway.gw_delete_files,
        inputs.delete_args,
        rules=FILES_WRITE_RULES,
        footprint=inputs.delete_footprint,
    ),
]
