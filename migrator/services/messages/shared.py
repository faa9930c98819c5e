"""What both message paths (and both chat areas) share: the route's page defaults and the
temporary-chat expiry (§4.2, §4.3).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PAGE_SIZE = 25  # GET /api/messages: `parseInt(pageSize) || 25`
SORT_FIELDS = ("endpoint", "createdAt", "updatedAt")  # the route's whitelist for `sortBy`

# B's `interface.temporaryChatRetention` default (720 h = 30 days), §4.2.
TEMP_CHAT_RETENTION = timedelta(hours=720)


def temp_expiry(now: datetime) -> datetime:
    """`createTempChatExpirationDate`: now + the retention (default 720 h)."""
    return now + TEMP_CHAT_RETENTION
