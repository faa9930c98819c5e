"""The built-in repository gateway and the external-process gateway client."""

from __future__ import annotations

from migrator.gateway.core import DbGateway
from migrator.gateway.repository import Repository

__all__ = ["DbGateway", "Repository"]
