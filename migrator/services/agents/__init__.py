"""Agents: load one, the ACL-filtered list, the promoted count, create and update
(docs/librechat.md §4.6, column B).

``legacy`` spells out what B's Mongoose code does: ``api/models/Agent.js`` (``loadAgent``,
``createAgent``, ``updateAgent``, ``getListAgentsByAccess``, ``countPromotedAgents``) and the
ACL lookups of ``PermissionService`` (``migrator.services.access``). ``gateway`` (``gw_*``)
calls repositories only.

What the controller (``api/server/controllers/agents/v1.js``) does before and after the data
access — parsing query strings, building the list filter, the duplicate-version check,
stringifying ``author`` — is application code that both paths share, as in LibreChat, where
only the data access switches on ``USE_DB_GATEWAY``. Those helpers are the pure functions of
``shared``.

Shapes returned (decided from B's code):
- ``agents.get``: the lean document plus ``version`` (= number of ``versions``), as ``loadAgent``.
- ``agents.list``: ``{object:'list', data, first_id, last_id, has_more, after}``; ``data`` rows
  carry the list projection, ``author`` as a hex string and ``isPublic: true`` where a public
  VIEW entry exists. ``after`` encodes the last *returned* row (no popped-row bug here).
- ``agents.create``: the created document (``toObject``); the owner ACL entry is a side effect.
- ``agents.update``: the updated document, ``author`` kept (as hex) only for its author; None
  where the controller answers 404.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.agents import gateway, inputs, legacy
from migrator.services.base import Operation

# Globs without a dot match the key at any depth (migrator.compare.normalize): generated ids,
# clocks, and the new agent's _id where the ACL entry points at it.
WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "resourceId", "grantedAt"))

OPERATIONS = [
    Operation(
        "agents.get",
        "read",
        legacy.get_agent,
        gateway.gw_get_agent,
        inputs.agent_ids,
        hazards=dict.fromkeys(inputs.AGENT_HAZARDS, "agent_id"),
    ),
    Operation(
        "agents.list",
        "read",
        legacy.list_agents,
        gateway.gw_list_agents,
        inputs.list_args,
        hazards=dict.fromkeys(inputs.AGENT_HAZARDS, "user"),
    ),
    Operation(
        "agents.count_promoted",
        "read",
        legacy.count_promoted,
        gateway.gw_count_promoted,
        lambda s: [{}],
    ),
    Operation(
        "agents.create",
        "write",
        legacy.create_agent,
        gateway.gw_create_agent,
        inputs.new_agents,
        rules=WRITE_RULES,
        footprint=inputs.create_footprint,
    ),
    Operation(
        "agents.update",
        "write",
        legacy.update_agent,
        gateway.gw_update_agent,
        inputs.agent_updates,
        rules=WRITE_RULES,
        footprint=lambda db, a: {"agents": {"id": a["agent_id"]}},
    ),
]
