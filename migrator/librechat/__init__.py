"""``--librechat PATH``: a LibreChat checkout's own TypeScript db-gateway as the gateway path.

``prepare(path)`` validates the checkout, installs and bundles what the Node adapter needs
(cached) and returns a :class:`LibreChatGateway`: ``argv``, ``env`` and ``cwd`` to start the
adapter (the launcher adds ``MONGO_URI`` and ``MIGRATOR_GATEWAY_DB``), ``describe()`` for reports
and ``routing()``. ``doctor_info(path)`` is what ``doctor --librechat`` shows.
"""

from migrator.librechat.checkout import Checkout, find_checkout
from migrator.librechat.prepare import (
    ADAPTER_VERSION,
    LibreChatGateway,
    cache_dir,
    doctor_info,
    prepare,
)

__all__ = [
    "ADAPTER_VERSION",
    "Checkout",
    "LibreChatGateway",
    "cache_dir",
    "doctor_info",
    "find_checkout",
    "prepare",
]
