"""Named gateway variants for `--gateway NAME`: the built-in gateway, and a deliberately faulty
one that shows a new user what a NO-GO looks like (`migrator demo`). Never use `faulty-demo`
to judge a real gateway."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from migrator.errors import ConfigError
from migrator.gateway.core import DbGateway
from migrator.gateway.repositories.auth import UserRepository
from migrator.gateway.repositories.files import FileRepository
from migrator.gateway.repositories.messages import MessageRepository
from migrator.gateway.repository import Doc


class _CaseSensitiveUsers(UserRepository):
    def find_by_email(self, email: str, select: dict[str, int] | None = None) -> Doc | None:
        # Bug: skips the schema's lowercase cast, so "Foo@x.com" no longer finds foo@x.com.
        return self.collection.find_one(
            {"email": email.strip()}, self.projection(select), session=self.session
        )


class _SlowMessages(MessageRepository):
    def find_by_conversation_id(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.0004)  # Bug: 400 µs of extra work on every conversation load.
        return super().find_by_conversation_id(*args, **kwargs)


class _LostIncFiles(FileRepository):
    def update_file_usage(self, file_id: str, inc: int = 1) -> Doc | None:
        # Bug: the usage counter is never incremented.
        return self.find_one_and_update(
            {"file_id": file_id}, {"$unset": {"expiresAt": "", "temp_file_id": ""}}
        )


class FaultyDemoGateway(DbGateway):
    FAULTS: ClassVar[dict[str, type]] = {
        "User": _CaseSensitiveUsers,
        "Message": _SlowMessages,
        "File": _LostIncFiles,
    }

    def get_repository(self, name: str) -> Any:
        cls = self.FAULTS.get(name)
        if cls is None:
            return super().get_repository(name)
        return cls(self.adapter.collection(cls.collection_name), self._session)


GATEWAYS: dict[str, type[DbGateway]] = {"builtin": DbGateway, "faulty-demo": FaultyDemoGateway}


def gateway_class(name: str) -> type[DbGateway]:
    if name not in GATEWAYS:
        raise ConfigError(f"--gateway must be one of {', '.join(GATEWAYS)}, got {name!r}")
    return GATEWAYS[name]
