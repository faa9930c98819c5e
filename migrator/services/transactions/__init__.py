"""Transactions and balance: spend records, spend totals, the balance (docs/librechat.md §4.5, B).

``legacy`` is direct pymongo calls spelling out ``api/models/Transaction.js`` and
``spendTokens.js``; ``gateway`` calls the Transaction and Balance repositories only.
LibreChat has no spend aggregation; ``spend_by_user``/``spend_by_model`` are the ones §4.5 asks
the port to write.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.base import Operation
from migrator.services.transactions import gateway, inputs, legacy

# getTransactions has no sort: the rows are a set, matched by _id.
TX_BY_USER_RULES = Rules(unordered={"": "_id"})

# Σ of doubles: a server may add in another order (the last bits can differ).
TX_SPEND_RULES = Rules(tolerance={"*.credits": 1e-6})
TX_WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "lastRefill"))

OPERATIONS = [
    Operation(
        "transactions.by_user",
        "read",
        legacy.by_user,
        gateway.gw_by_user,
        inputs.range_args,
        rules=TX_BY_USER_RULES,
        hazards={"many_transactions": "user"},
    ),
    Operation(
        "transactions.spend_by_user",
        "read",
        legacy.spend_by_user,
        gateway.gw_spend_by_user,
        inputs.user_args,
        rules=TX_SPEND_RULES,
        hazards={"many_transactions": "user"},
    ),
    Operation(
        "transactions.spend_by_model",
        "read",
        legacy.spend_by_model,
        gateway.gw_spend_by_model,
        inputs.user_args,
        rules=TX_SPEND_RULES,
        hazards={"many_transactions": "user"},
    ),
    Operation(
        "transactions.balance",
        "read",
        legacy.balance,
        gateway.gw_balance,
        inputs.balance_args,
        hazards={"duplicate_balances": "user"},
    ),
    Operation(
        "transactions.create_transaction",
        "write",
        legacy.create_transaction,
        gateway.gw_create_transaction,
        inputs.new_transactions,
        rules=TX_WRITE_RULES,
        footprint=inputs.tx_footprint,
    ),
    Operation(
        "transactions.spend_tokens",
        "write",
        legacy.spend_tokens,
        gateway.gw_spend_tokens,
        inputs.spend_args,
        rules=TX_WRITE_RULES,
        footprint=inputs.tx_footprint,
    ),
]
