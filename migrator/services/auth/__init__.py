"""Auth: users, sessions, tokens and the balance read (docs/librechat.md §4.1, column B).

``legacy`` is direct pymongo calls spelling out what Mongoose does; ``gateway`` calls
repositories only.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.auth import gateway, inputs, legacy
from migrator.services.base import Operation

WRITE_RULES = Rules(
    volatile=(
        "_id",
        "*._id",
        "user._id",
        "createdAt",
        "updatedAt",
        "expiration",
        "refreshTokenHash",
        "lastRefill",
    )
)

OPERATIONS = [
    Operation(
        "auth.get_user_by_id",
        "read",
        legacy.get_user_by_id,
        gateway.gw_get_user_by_id,
        inputs.user_ids,
        hazards={"users_with_ttl": "user", "mixed_case_email": "user"},
    ),
    Operation(
        "auth.find_user_by_email",
        "read",
        legacy.find_user_by_email,
        gateway.gw_find_user_by_email,
        inputs.emails,
        hazards={"mixed_case_email": "email"},
    ),
    Operation(
        "auth.find_user_for_openid",
        "read",
        legacy.find_user_for_openid,
        gateway.gw_find_user_for_openid,
        inputs.openid,
    ),
    Operation(
        "auth.count_users", "read", legacy.count_users, gateway.gw_count_users, lambda s: [{}]
    ),
    Operation(
        "auth.find_session",
        "read",
        legacy.find_session,
        gateway.gw_find_session,
        inputs.sessions,
        hazards={"expired_sessions": "refreshTokenHash"},
    ),
    Operation(
        "auth.count_active_sessions",
        "read",
        legacy.count_active_sessions,
        gateway.gw_count_active_sessions,
        inputs.session_users,
        hazards={"expired_sessions": "user"},
    ),
    Operation(
        "auth.find_token",
        "read",
        legacy.find_token,
        gateway.gw_find_token,
        inputs.tokens,
        hazards={"tokens_without_type": "token"},
    ),
    Operation(
        "auth.get_balance",
        "read",
        legacy.get_balance,
        gateway.gw_get_balance,
        lambda s: [
            *({"user_id": u} for u in s.ref_values("duplicate_balances", "user")),
            *(a for a in inputs.user_ids(s) if a["user_id"] != "not-an-object-id"),
        ],
        hazards={"duplicate_balances": "user"},
    ),
    Operation(
        "auth.create_user",
        "write",
        legacy.create_user,
        gateway.gw_create_user,
        inputs.new_users,
        rules=WRITE_RULES,
        footprint=lambda db, a: {},
    ),
    Operation(
        "auth.update_user",
        "write",
        legacy.update_user,
        gateway.gw_update_user,
        inputs.user_updates,
        rules=WRITE_RULES,
        footprint=inputs.user_footprint,
    ),
    Operation(
        "auth.create_session",
        "write",
        legacy.create_session,
        gateway.gw_create_session,
        lambda s: inputs.user_ids(s)[:-2],
        rules=WRITE_RULES,
        footprint=inputs.session_footprint,
    ),
    Operation(
        "auth.refresh_session",
        "write",
        legacy.refresh_session,
        gateway.gw_refresh_session,
        inputs.session_refreshes,
        rules=WRITE_RULES,
        footprint=inputs.session_footprint,
    ),
    Operation(
        "auth.delete_session",
        "write",
        legacy.delete_session,
        gateway.gw_delete_session,
        inputs.session_hashes,
        rules=WRITE_RULES,
        footprint=inputs.session_footprint,
    ),
    Operation(
        "auth.delete_other_sessions",
        "write",
        legacy.delete_other_sessions,
        gateway.gw_delete_other_sessions,
        inputs.other_sessions,
        rules=WRITE_RULES,
        footprint=inputs.session_footprint,
    ),
]
