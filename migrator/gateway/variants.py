"""The gateway variants `--gateway NAME` names (registered by name in migrator.choices): the
built-in gateway, a deliberately faulty one that shows a new user what a NO-GO looks like
(`migrator demo`), and single-bug variants the tests use to prove that `verify` catches each
order, limit and filter bug the seed is shaped to expose. Never use any but `builtin` to judge a
real gateway."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from migrator.gateway.core import DbGateway
from migrator.gateway.repositories.auth import UserRepository
from migrator.gateway.repositories.conversations import ConversationRepository
from migrator.gateway.repositories.files import FileRepository
from migrator.gateway.repositories.messages import MessageRepository
from migrator.gateway.repository import Doc, Repository, Sort


class _CaseSensitiveUsers(UserRepository):
    def find_by_email(self, email: str, select: dict[str, int] | None = None) -> Doc | None:
        # Bug: skips the schema's lowercase cast, so "Foo@x.com" no longer finds foo@x.com.
        return self.collection.find_one(
            {"email": email.strip()}, self.projection(select), session=self.session
        )


class _SlowMessages(MessageRepository):
    def find_by_conversation_id(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.003)  # Bug: 3 ms of extra work on every conversation load.
        return super().find_by_conversation_id(*args, **kwargs)


class _LostIncFiles(FileRepository):
    def update_file_usage(self, file_id: str, inc: int = 1) -> Doc | None:
        # Bug: the usage counter is never incremented.
        return self.find_one_and_update(
            {"file_id": file_id}, {"$unset": {"expiresAt": "", "temp_file_id": ""}}
        )


class _FaultyRepositories(DbGateway):
    """The built-in gateway with some repositories swapped for wrong ones (``FAULTS``)."""

    FAULTS: ClassVar[dict[str, type]] = {}

    def get_repository(self, name: str) -> Any:
        cls = self.FAULTS.get(name)
        if cls is None:
            return super().get_repository(name)
        return cls(self.adapter.collection(cls.collection_name), self._session)


class FaultyDemoGateway(_FaultyRepositories):
    FAULTS: ClassVar[dict[str, type]] = {
        "User": _CaseSensitiveUsers,
        "Message": _SlowMessages,
        "File": _LostIncFiles,
    }


class LostIncGateway(_FaultyRepositories):
    """Bug: files.increment_usage never increments `usage` (faulty-demo's File bug alone)."""

    FAULTS: ClassVar[dict[str, type]] = {"File": _LostIncFiles}


def _sort_items(sort: Sort) -> list[tuple[str, int]]:
    return list(dict(sort or {}).items())


class _OneBugGateway(DbGateway):
    """Every repository with one change to how ``find`` reads (sort, limit or filter)."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list[tuple[str, int]], limit: int) -> tuple:
        return query, sort, limit

    def get_repository(self, name: str) -> Any:
        repo = super().get_repository(name)
        base_find = repo.find
        bug = self.bug

        def find(query: Any = None, *, sort: Sort = None, limit: int = 0, **kw: Any) -> list:
            query, items, limit = bug(repo, query, _sort_items(sort), limit)
            return base_find(query, sort=items or None, limit=limit, **kw)

        repo.find = find  # type: ignore[method-assign]
        return repo


class NoSortGateway(_OneBugGateway):
    """Bug: list reads come back in the server's natural order (the sort is lost)."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list, limit: int) -> tuple:
        return query, [], limit


class SortCreatedGateway(_OneBugGateway):
    """Bug: sorts on createdAt where LibreChat sorts on updatedAt."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list, limit: int) -> tuple:
        return query, [("createdAt" if k == "updatedAt" else k, d) for k, d in sort], limit


class Cap100Gateway(_OneBugGateway):
    """Bug: every list read is capped at 100 rows."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list, limit: int) -> tuple:
        return query, sort, min(limit, 100) if limit else 100


class DescendingGateway(_OneBugGateway):
    """Bug: ascending sorts run descending."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list, limit: int) -> tuple:
        return query, [(k, -1) for k, _ in sort], limit


_TEMP_CHAT_CLAUSE = {"$or": [{"expiredAt": None}, {"expiredAt": {"$exists": False}}]}


class NoTempFilterGateway(_OneBugGateway):
    """Bug: the sidebar lists temporary (expiring) chats too."""

    @staticmethod
    def bug(repo: Repository, query: Any, sort: list, limit: int) -> tuple:
        if isinstance(repo, ConversationRepository) and isinstance(query, dict):
            clauses = [c for c in query.get("$and", []) if c != _TEMP_CHAT_CLAUSE]
            query = {**query, "$and": clauses} if "$and" in query else query
        return query, sort, limit


# The single-bug variants: each must make `verify` fail on a freshly seeded database.
BUG_VARIANTS: tuple[str, ...] = (
    "no-sort", "sort-created", "cap-100", "no-temp-filter", "descending",
)  # fmt: skip
