"""Prompts: the ACL-filtered group list, one group, a group's prompts, create a group
(docs/librechat.md §4.7, column B).

``legacy`` spells out B's ``api/models/Prompt.js`` (``getListPromptGroupsByAccess``,
``getPromptGroup``, ``getPrompts``, ``createPromptGroup``) and the ACL lookups of
``PermissionService`` (``migrator.services.access``); ``gateway`` (``gw_*``) calls repositories
only. The route code of ``api/server/routes/prompts.js`` and its ``@librechat/api`` helpers
(``buildPromptGroupFilter``, ``filterAccessibleIdsBySharedLogic``, ``markPublicPromptGroups``,
``formatPromptGroupsResponse``) is application code both paths share: ``shared``.

Shapes returned (decided from B's code):
- ``prompts.groups_list``: the ``GET /api/prompts/groups`` body ``{promptGroups, pageNumber,
  pageSize, pages, has_more, after}``; rows carry the ``$project`` fields, ``author`` as hex,
  ``productionPrompt: {prompt}`` when the production prompt exists, ``isPublic`` where public.
  With neither ``limit`` nor ``pageSize`` the route fails on ``undefined.toString()`` (a 500):
  both paths raise TypeError.
- ``prompts.get_group`` / ``prompts.prompts_of_group``: the model functions; their catch-all
  turns a cast failure into ``{"message": "Error getting prompt group"}`` / ``"...prompts"``.
- ``prompts.create_prompt_group``: ``{prompt, group: {...group, productionPrompt: {prompt}}}``
  after the three writes, plus the owner ACL entry the route grants.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.base import Operation
from migrator.services.prompts import gateway, inputs, legacy

# Generated ids and clocks at any depth, and the references to new documents.
WRITE_RULES = Rules(
    volatile=(
        "_id", "createdAt", "updatedAt", "groupId", "productionId", "resourceId", "grantedAt",
    )
)  # fmt: skip

OPERATIONS = [
    Operation(
        "prompts.groups_list",
        "read",
        legacy.list_groups,
        gateway.gw_list_groups,
        inputs.groups_list_args,
        hazards={"sort_key_ties": "user", "promptgroup_without_production": "user"},
    ),
    Operation(
        "prompts.get_group",
        "read",
        legacy.get_group,
        gateway.gw_get_group,
        inputs.group_ids,
        hazards={"promptgroup_without_production": "group_id"},
    ),
    Operation(
        "prompts.prompts_of_group",
        "read",
        legacy.prompts_of_group,
        gateway.gw_prompts_of_group,
        inputs.group_ids,
        hazards={"promptgroup_without_production": "group_id"},
    ),
    Operation(
        "prompts.create_prompt_group",
        "write",
        legacy.create_prompt_group,
        gateway.gw_create_prompt_group,
        inputs.new_groups,
        rules=WRITE_RULES,
        footprint=inputs.create_footprint,
    ),
]
