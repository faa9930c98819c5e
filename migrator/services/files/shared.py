"""What both file paths share: the one error ``getToolFilesByIds`` rethrows."""

from __future__ import annotations

TOOL_FILES_ERROR = "Error retrieving tool files"
