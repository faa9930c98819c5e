"""Resources listed by access — agents and prompt groups: PermissionService's permission bits,
the list limit and the cursors both lists are tried with. The ACL lookups and the cursor page
are in ``legacy`` (B's Mongoose code spelled out) and ``gateway`` (the AclEntry repository).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from migrator.services.js import js_parse_int, js_truthy

VIEW, EDIT, DELETE, SHARE = 1, 2, 4, 8
# The access roles LibreChat seeds into `accessroles` at start-up (`seedDefaultRoles`). B's
# grantPermission reads the role from that collection; the seeded test data has none, so the
# built-in bits stand in and `roleId` is left out when no role document exists.
BUILTIN_ACCESS_ROLES: dict[str, int] = {
    "agent_viewer": VIEW,
    "agent_editor": VIEW | EDIT,
    "agent_owner": VIEW | EDIT | DELETE | SHARE,
    "promptGroup_viewer": VIEW,
    "promptGroup_editor": VIEW | EDIT,
    "promptGroup_owner": VIEW | EDIT | DELETE | SHARE,
}


def normalize_limit(limit: Any) -> int | None:
    """``getListAgentsByAccess``/``getListPromptGroupsByAccess``: no limit ⇒ unpaginated;
    ``parseInt(limit) || 20`` (so 0 and junk become 20), clamped to 1..100."""
    if limit is None:
        return None
    parsed = js_parse_int(limit)
    if not js_truthy(parsed):
        parsed = 20
    return int(min(max(1, parsed), 100))


def parse_required_permission(value: Any) -> Any:
    """The list handler: a query string goes through ``parseInt(x, 10)`` (NaN ⇒ VIEW); a
    number is kept; anything else is VIEW."""
    if isinstance(value, str):
        parsed = js_parse_int(value, 10)
        return VIEW if math.isnan(parsed) else int(parsed)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return VIEW


def check_required_permission(required: Any) -> None:
    """PermissionService re-throws this one validation error (the list answers 500)."""
    if not isinstance(required, int | float) or isinstance(required, bool) or required < 1:
        raise ValueError("requiredPermissions must be a positive number")


def encode_cursor(payload: dict[str, Any]) -> str:
    """A list cursor as the lists write it: base64 of the JSON ``{updatedAt, _id}``."""
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


# Cursors every by-access list is tried with (inputs): past the last row, and a junk date.
PAST_THE_END = encode_cursor({"updatedAt": "1970-01-01T00:00:00.000Z", "_id": "0" * 24})
BAD_DATE_CURSOR = encode_cursor({"updatedAt": "yesterday", "_id": "0" * 24})
