"""Transaction repository (ITransactionRepository, docs/librechat.md §6), §4.5 (column B).

The spend aggregations are the ones §4.5 asks the port to write (LibreChat has none).
Aggregations are not cast by Mongoose (§1 #3), so this repository casts the owner itself.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from migrator import model
from migrator.gateway.repository import Doc, Repository, as_object_id

# Transaction.js: an interrupted completion costs 15 % more.
CANCEL_RATE = 1.15


class TransactionRepository(Repository):
    collection_name = "transactions"

    def cast_value(self, field: str, value: Any) -> Any:
        # Mongoose's Date cast throws on a string JS cannot parse (Invalid Date); the base
        # Repository passes such strings through, which would silently match nothing.
        cast = super().cast_value(field, value)
        top = field.split(".", 1)[0]
        if top in self.date_fields and isinstance(value, str) and isinstance(cast, str):
            raise model.CastError(field, value, "date")
        return cast

    # -- reads -----------------------------------------------------------------------------

    def find_by_user(self, user_id: Any, start: Any = None, end: Any = None) -> list[Doc]:
        """``getTransactions({user[, createdAt range]})``: B applies no sort."""
        query: dict[str, Any] = {"user": user_id}
        created: dict[str, Any] = {}
        if start is not None:
            created["$gte"] = start
        if end is not None:
            created["$lt"] = end
        if created:
            query["createdAt"] = created
        return self.find(query)

    def _spend(self, user_id: Any, group: Mapping[str, str]) -> list[Doc]:
        user = as_object_id(user_id, "user")  # aggregations are not cast (§1 #3)
        return self.aggregate(
            [
                {"$match": {"user": user}},
                {
                    "$group": {
                        "_id": dict(group),
                        "tokens": {"$sum": "$rawAmount"},
                        "credits": {"$sum": "$tokenValue"},
                    }
                },
                {"$sort": {f"_id.{key}": 1 for key in group}},
            ]
        )

    def get_user_summary(self, user_id: Any) -> list[Doc]:
        """One user's spend per token type."""
        return self._spend(user_id, {"tokenType": "$tokenType"})

    def get_model_usage_stats(self, user_id: Any) -> list[Doc]:
        """One user's spend per model and token type (the §4.5 pipeline)."""
        return self._spend(user_id, {"model": "$model", "tokenType": "$tokenType"})

    # -- writes ----------------------------------------------------------------------------

    @staticmethod
    def calculate_token_value(tx: dict[str, Any]) -> None:
        """Transaction.js ``calculateTokenValue``: rate = |multiplier|, value = amount × rate;
        an incomplete completion is charged ×1.15, rounded up (towards +∞)."""
        rate = abs(model.multiplier(tx.get("model"), tx.get("tokenType")))
        tx["rate"] = rate
        tx["tokenValue"] = tx.get("rawAmount") * rate
        if tx.get("tokenType") == "completion" and tx.get("context") == "incomplete":
            tx["tokenValue"] = math.ceil(tx["tokenValue"] * CANCEL_RATE)
            tx["rate"] = rate * CANCEL_RATE

    def create_transaction(self, data: Mapping[str, Any]) -> Doc:
        tx = dict(data)
        self.calculate_token_value(tx)
        return self.create(tx)
