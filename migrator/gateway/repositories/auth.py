"""User, Session, Token and Balance repositories (IUserRepository, ISessionRepository, …, §6).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from migrator import model
from migrator.gateway.repository import Doc, Repository, utcnow

REFRESH_TOKEN_LIFETIME = timedelta(days=7)


class UserRepository(Repository):
    collection_name = "users"

    def find_by_email(self, email: str, select: dict[str, int] | None = None) -> Doc | None:
        # The schema lowercases `email` on queries; the trim is the caller's (§4.1).
        return self.find_one({"email": email.strip()}, select)

    def find_by_provider_id(self, provider: str, provider_id: str) -> Doc | None:
        return self.find_one({f"{provider}Id": provider_id})

    def email_exists(self, email: str) -> bool:
        return self.exists({"email": email.strip()})


class SessionRepository(Repository):
    collection_name = "sessions"

    def find_session(self, refresh_token_hash: str, user_id: Any, now: datetime) -> Doc | None:
        return self.find_one(
            {"refreshTokenHash": refresh_token_hash, "user": user_id, "expiration": {"$gt": now}}
        )

    def count_active_sessions(self, user_id: Any, now: datetime) -> int:
        return self.count({"user": user_id, "expiration": {"$gt": now}})

    def create_session(self, user_id: Any, refresh_token_hash: str, session_id: Any = None) -> Doc:
        data = {
            "user": user_id,
            "refreshTokenHash": refresh_token_hash,
            "expiration": utcnow() + REFRESH_TOKEN_LIFETIME,
        }
        return self.create(data if session_id is None else {"_id": session_id, **data})

    def delete_session(self, query: dict[str, Any]) -> int:
        return self.collection.delete_one(self.filter(query), session=self.session).deleted_count

    def delete_all_user_sessions(self, user_id: Any, except_session_id: Any = None) -> int:
        query: dict[str, Any] = {"user": user_id}
        if except_session_id is not None:
            query["_id"] = {"$ne": except_session_id}
        return self.delete_many(query)


class TokenRepository(Repository):
    collection_name = "tokens"

    def find_token(self, **conditions: Any) -> Doc | None:
        # LibreChat AND-s the truthy keys; none at all leaves `$and: []`, which the query
        # cast removes (the base `filter`): the first token of the collection.
        keys = model.TOKEN_QUERY_KEYS
        return self.find_one({"$and": [{k: conditions[k]} for k in keys if conditions.get(k)]})


class BalanceRepository(Repository):
    collection_name = "balances"

    def find_by_user(self, user_id: Any, select: dict[str, int] | None = None) -> Doc | None:
        return self.find_one({"user": user_id}, select)
