"""Prompt and PromptGroup repositories (IPromptRepository, §6; B's ``api/models/Prompt.js``,
§4.7).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bson import ObjectId

from migrator.gateway.repositories.agents import cursor_condition, list_page
from migrator.gateway.repository import Doc, Repository

GROUP_LIST_PROJECTION: dict[str, int] = dict.fromkeys(
    (
        "name", "numberOfGenerations", "oneliner", "category", "projectIds", "productionId",
        "author", "authorName", "createdAt", "updatedAt", "productionPrompt.prompt",
    ),
    1,
)  # fmt: skip


class PromptRepository(Repository):
    collection_name = "prompts"

    def get_prompts(self, query: Mapping[str, Any]) -> list[Doc]:
        """A group's prompts, newest first."""
        return self.find(query, sort={"createdAt": -1})


class PromptGroupRepository(Repository):
    collection_name = "promptgroups"

    def get_prompt_group(self, query: Mapping[str, Any]) -> Doc | None:
        return self.find_one(query)

    def get_list_prompt_groups_by_access(
        self,
        accessible_ids: Sequence[ObjectId],
        other_params: Mapping[str, Any],
        limit: int | None,
        after: str | None,
    ) -> dict[str, Any]:
        """One page of visible groups with their production prompt's text.

        An aggregation: nothing is cast (§1 #3), so the match holds real ObjectIds, dates and
        regexes, and a cursor's Invalid Date reaches the server as the epoch.
        """
        match: dict[str, Any] = {**other_params, "_id": {"$in": list(accessible_ids)}}
        condition = cursor_condition(after, invalid_date="epoch")
        if condition is not None:
            match = {"$and": [match, condition]}
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$sort": {"updatedAt": -1, "_id": 1}},
        ]
        if limit is not None:
            pipeline.append({"$limit": limit + 1})
        pipeline += [
            {
                "$lookup": {
                    "from": "prompts",
                    "localField": "productionId",
                    "foreignField": "_id",
                    "as": "productionPrompt",
                }
            },
            {"$unwind": {"path": "$productionPrompt", "preserveNullAndEmptyArrays": True}},
            {"$project": dict(GROUP_LIST_PROJECTION)},
        ]
        rows = self.aggregate(pipeline)
        return list_page(rows, limit, row_id=lambda group: str(group["_id"]))
