"""LibreChat v0.8.0-rc3 (version **B**) schema facts as plain data, one place for the whole tool.

Every value cites the section of ``docs/librechat.md`` it comes from ("§3.5" etc.).
Values marked *belief* are Mongoose behaviours stated from knowledge there (§9), not read from
source.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.database import Database

# §2: collections the tool reads, writes and seeds (lowercase plural model names, §1 #1).
COLLECTIONS: tuple[str, ...] = (
    "users",
    "sessions",
    "tokens",
    "balances",
    "conversations",
    "messages",
    "files",
    "transactions",
    "agents",
    "prompts",
    "promptgroups",
    "aclentries",
    "conversationtags",
)

# §3.6: the root of every message tree.
NO_PARENT = "00000000-0000-0000-0000-000000000000"

# The tool's own collection in a seeded database: which hazards the seed planted and where
# (``migrator.seed.hazards``). Not LibreChat data: counts and verify never look at it.
HAZARD_MANIFEST = "_migrator_hazards"

# --------------------------------------------------------------------------------------------
# Version-dependent facts of LibreChat's code (B unless stated), one place each.
# --------------------------------------------------------------------------------------------

# data-schemas `findToken` (B): a condition per *truthy* key, in this order, AND-ed. N adds
# `type` (between userId and token) and lowercases `email`.
TOKEN_QUERY_KEYS: tuple[str, ...] = ("userId", "token", "email", "identifier")
# `getToolFilesByIds`: the tool resource that selects OCR'd / context text files. B's
# librechat-data-provider calls it `EToolResources.ocr`; N renamed it to `context`.
TOOL_RESOURCE_TEXT = "ocr"
TOOL_RESOURCE_FILE_SEARCH = "file_search"
TOOL_RESOURCE_EXECUTE_CODE = "execute_code"


# --------------------------------------------------------------------------------------------
# Indexes (§3, B column). Mongoose autoIndex creates these at start-up with default names.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexSpec:
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    sparse: bool = False
    expire_after_seconds: int | None = None

    @property
    def name(self) -> str:
        """MongoDB's default index name, e.g. ``conversationId_1_user_1``."""
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)


def _ix(*keys: str | tuple[str, int], **options: Any) -> IndexSpec:
    pairs = tuple((k, 1) if isinstance(k, str) else k for k in keys)
    return IndexSpec(pairs, **options)


_PROVIDER_ID_FIELDS = (
    "googleId",
    "facebookId",
    "openidId",
    "samlId",
    "ldapId",
    "githubId",
    "discordId",
    "appleId",
)

INDEXES: dict[str, list[IndexSpec]] = {
    # §3.1: email unique (case-sensitive, §8); each <provider>Id unique+sparse; TTL 7 d;
    # idOnTheSource sparse (B+).
    "users": [
        _ix("email", unique=True),
        *(_ix(f, unique=True, sparse=True) for f in _PROVIDER_ID_FIELDS),
        _ix("expiresAt", expire_after_seconds=604800),
        _ix("idOnTheSource", sparse=True),
    ],
    # §3.2: only the TTL index; no index on user or refreshTokenHash (§8 unindexed lookups).
    "sessions": [_ix("expiration", expire_after_seconds=0)],
    # §3.3: the TTL index is the only secondary index.
    "tokens": [_ix("expiresAt", expire_after_seconds=0)],
    # §3.4: user indexed but NOT unique.
    "balances": [_ix("user")],
    # §3.5
    "conversations": [
        _ix("conversationId", unique=True),
        _ix("user"),
        _ix("expiredAt", expire_after_seconds=0),
        _ix("createdAt", "updatedAt"),
        _ix("conversationId", "user", unique=True),
    ],
    # §3.6
    "messages": [
        _ix("messageId", unique=True),
        _ix("conversationId"),
        _ix("user"),
        _ix("expiredAt", expire_after_seconds=0),
        _ix("createdAt"),
        _ix("messageId", "user", unique=True),
    ],
    # §3.7: file_id NOT unique; TTL 1 h after the stored date.
    "files": [
        _ix("user"),
        _ix("conversationId"),
        _ix("file_id"),
        _ix("expiresAt", expire_after_seconds=3600),
        _ix("createdAt", "updatedAt"),
    ],
    # §3.8 (model index is N only)
    "transactions": [_ix("user"), _ix("conversationId")],
    # §3.9
    "agents": [
        _ix("id", unique=True),
        _ix("projectIds"),
        _ix("category"),
        _ix("is_promoted"),
        _ix(("updatedAt", -1), ("_id", 1)),
    ],
    # §3.10 (author index is N only)
    "prompts": [_ix("groupId"), _ix("createdAt", "updatedAt")],
    "promptgroups": [
        _ix("name"),
        _ix("category"),
        _ix("projectIds"),
        _ix("productionId"),
        _ix("author"),
        _ix("command"),
        _ix("createdAt", "updatedAt"),
    ],
    # §3.12
    "aclentries": [
        _ix("resourceId"),
        _ix("principalId", "principalType", "resourceType", "resourceId"),
    ],
    # §3.11
    "conversationtags": [
        _ix("tag"),
        _ix("user"),
        _ix("description"),
        _ix("position"),
        _ix("tag", "user", unique=True),
    ],
}


def ensure_indexes(db: Database) -> list[str]:
    """Create every index of ``INDEXES`` (like Mongoose autoIndex); returns "coll.name" strings."""
    created = []
    for collection, specs in INDEXES.items():
        for spec in specs:
            options: dict[str, Any] = {}
            if spec.unique:
                options["unique"] = True
            if spec.sparse:
                options["sparse"] = True
            if spec.expire_after_seconds is not None:
                options["expireAfterSeconds"] = spec.expire_after_seconds
            name = db[collection].create_index(list(spec.keys), **options)
            created.append(f"{collection}.{name}")
    return created


# --------------------------------------------------------------------------------------------
# Reads: select:false paths (§1 #10), owner fields (§2), casting (§1 #2, #4, #11).
# --------------------------------------------------------------------------------------------

HIDDEN_FIELDS: dict[str, tuple[str, ...]] = {
    "users": ("password", "totpSecret", "backupCodes"),
    "messages": ("_meiliIndex",),
}
USER_DEFAULT_PROJECTION: dict[str, int] = {f: 0 for f in HIDDEN_FIELDS["users"]}
MESSAGE_DEFAULT_PROJECTION: dict[str, int] = {"_meiliIndex": 0}
# §4.1: the JWT strategy and refresh also drop __v.
USER_AUTH_PROJECTION: dict[str, int] = {**USER_DEFAULT_PROJECTION, "__v": 0}

OwnerType = Literal["objectid", "string"]

# §2 / §1 #2: string (User._id hex) on conversations, messages, conversationtags; ObjectId
# elsewhere.
OWNER_FIELDS: dict[str, tuple[str, OwnerType]] = {
    "sessions": ("user", "objectid"),
    "tokens": ("userId", "objectid"),
    "balances": ("user", "objectid"),
    "conversations": ("user", "string"),
    "messages": ("user", "string"),
    "files": ("user", "objectid"),
    "transactions": ("user", "objectid"),
    "agents": ("author", "objectid"),
    "prompts": ("author", "objectid"),
    "promptgroups": ("author", "objectid"),
    "conversationtags": ("user", "string"),
}

# §1 #2: paths where Mongoose casts a hex string to ObjectId (besides `_id` everywhere).
OBJECTID_FIELDS: dict[str, frozenset[str]] = {
    "sessions": frozenset({"user"}),
    "tokens": frozenset({"userId"}),
    "balances": frozenset({"user"}),
    "conversations": frozenset({"messages"}),
    "files": frozenset({"user"}),
    "transactions": frozenset({"user"}),
    "agents": frozenset({"author", "projectIds"}),
    "prompts": frozenset({"groupId", "author"}),
    "promptgroups": frozenset({"author", "productionId", "projectIds"}),
    "aclentries": frozenset({"resourceId", "roleId", "inheritedFrom", "grantedBy"}),
}

# §1 #4: Date paths (string filter values are parsed as JS dates).
_TS = frozenset({"createdAt", "updatedAt"})
DATE_FIELDS: dict[str, frozenset[str]] = {
    "users": _TS | {"expiresAt"},
    "sessions": frozenset({"expiration"}),
    "tokens": frozenset({"createdAt", "expiresAt"}),
    "balances": frozenset({"lastRefill"}),
    "conversations": _TS | {"expiredAt"},
    "messages": _TS | {"expiredAt"},
    "files": _TS | {"expiresAt"},
    "transactions": _TS,
    "agents": _TS,
    "prompts": _TS,
    "promptgroups": _TS,
    "aclentries": _TS | {"grantedAt"},
    "conversationtags": _TS,
}

# §1 #11: lowercase setters, applied on save and (belief) on query filters.
LOWERCASE_FIELDS: dict[str, frozenset[str]] = {"users": frozenset({"email", "username"})}

# --------------------------------------------------------------------------------------------
# Schema whitelists for strict / strictQuery (§1 #5-6): unknown top-level keys are dropped.
# --------------------------------------------------------------------------------------------

_BASE = frozenset({"_id", "__v"})
_TIMESTAMPED = _BASE | _TS

# §3.5 conversationPreset (B); isTemporary, promptCacheTtl, thinkingLevel, effort... are N only.
CONVERSATION_PRESET_FIELDS: frozenset[str] = frozenset(
    {
        "endpoint", "endpointType", "model", "region", "chatGptLabel", "examples", "modelLabel",
        "promptPrefix", "temperature", "top_p", "topP", "topK", "maxOutputTokens", "maxTokens",
        "presence_penalty", "frequency_penalty", "file_ids", "resendImages", "promptCache",
        "thinking", "thinkingBudget", "system", "resendFiles", "imageDetail", "agent_id",
        "assistant_id", "instructions", "stop", "isArchived", "iconURL", "greeting", "spec",
        "tags", "tools", "maxContextTokens", "max_tokens", "useResponsesApi", "web_search",
        "disableStreaming", "reasoning_effort", "reasoning_summary", "verbosity",
    }
)  # fmt: skip

SCHEMA_FIELDS: dict[str, frozenset[str]] = {
    # §3.1 (pending* fields, favorites, tenantId are N only)
    "users": _TIMESTAMPED
    | {
        "name", "username", "email", "emailVerified", "password", "avatar", "provider", "role",
        *_PROVIDER_ID_FIELDS, "plugins", "twoFactorEnabled", "totpSecret", "backupCodes",
        "refreshToken", "expiresAt", "termsAccepted", "personalization", "idOnTheSource",
    },
    # §3.2: no timestamps
    "sessions": _BASE | {"refreshTokenHash", "expiration", "user"},
    # §3.3: own createdAt, no updatedAt
    "tokens": _BASE
    | {"userId", "email", "type", "identifier", "token", "createdAt", "expiresAt", "metadata"},
    # §3.4: no timestamps
    "balances": _BASE
    | {
        "user", "tokenCredits", "autoRefillEnabled", "refillIntervalValue",
        "refillIntervalUnit", "lastRefill", "refillAmount",
    },
    # §3.5: _meiliIndex only exists when the Meili plugin is active (§1 #10) — not assumed here.
    "conversations": _TIMESTAMPED
    | CONVERSATION_PRESET_FIELDS
    | {"conversationId", "title", "user", "messages", "agentOptions", "files", "expiredAt"},
    # §3.6 (isTemporary, metadata, contextMeta... are N only)
    "messages": _TIMESTAMPED
    | {
        "messageId", "conversationId", "user", "model", "endpoint", "conversationSignature",
        "clientId", "invocationId", "parentMessageId", "tokenCount", "summaryTokenCount",
        "sender", "text", "summary", "isCreatedByUser", "unfinished", "error", "finish_reason",
        "feedback", "_meiliIndex", "files", "plugin", "plugins", "content", "thread_id",
        "iconURL", "attachments", "expiredAt",
    },
    # §3.7
    "files": _TIMESTAMPED
    | {
        "user", "conversationId", "file_id", "temp_file_id", "bytes", "filename", "filepath",
        "object", "embedded", "type", "text", "context", "usage", "source", "model", "width",
        "height", "metadata", "expiresAt",
    },
    # §3.8 (messageId is N only)
    "transactions": _TIMESTAMPED
    | {
        "user", "conversationId", "tokenType", "model", "context", "valueKey", "rate",
        "rawAmount", "tokenValue", "inputTokens", "writeTokens", "readTokens",
    },
    # §3.9
    "agents": _TIMESTAMPED
    | {
        "id", "name", "description", "instructions", "avatar", "provider", "model",
        "model_parameters", "artifacts", "access_level", "recursion_limit", "tools",
        "tool_kwargs", "actions", "author", "authorName", "hide_sequential_outputs",
        "end_after_tools", "agent_ids", "conversation_starters", "tool_resources",
        "projectIds", "versions", "category", "support_contact", "is_promoted",
    },
    # §3.10
    "prompts": _TIMESTAMPED | {"groupId", "author", "prompt", "type"},
    "promptgroups": _TIMESTAMPED
    | {
        "name", "numberOfGenerations", "oneliner", "category", "projectIds", "productionId",
        "author", "authorName", "command",
    },
    # §3.12
    "aclentries": _TIMESTAMPED
    | {
        "principalType", "principalId", "principalModel", "resourceType", "resourceId",
        "permBits", "roleId", "inheritedFrom", "grantedBy", "grantedAt",
    },
    # §3.11
    "conversationtags": _TIMESTAMPED | {"tag", "user", "description", "count", "position"},
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Defaults Mongoose adds on create() and, via $setOnInsert, on upserts (§1 #8-9).
# `NOW` stands for "the time of the write" (Date.now defaults); see `materialize`.
# --------------------------------------------------------------------------------------------


class _Now:
    def __repr__(self) -> str:
        return "NOW"


NOW: Any = _Now()

# §3.1, §7. Arrays without `default: undefined` become [] (belief, §1 #8); personalization's
# default {} is cast through its sub-schema, giving {memories: True} (belief). avatar, name,
# expiresAt and the provider ids have no default and stay absent.
USER_DEFAULTS: dict[str, Any] = {
    "username": "",
    "emailVerified": False,
    "provider": "local",
    "role": "USER",
    "plugins": [],
    "twoFactorEnabled": False,
    "backupCodes": [],
    "refreshToken": [],
    "termsAccepted": False,
    "personalization": {"memories": True},
}

# §3.4
BALANCE_DEFAULTS: dict[str, Any] = {
    "tokenCredits": 0,
    "autoRefillEnabled": False,
    "refillIntervalValue": 30,
    "refillIntervalUnit": "days",
    "lastRefill": NOW,
    "refillAmount": 0,
}

# §3.3: createdAt has a schema default (no timestamps option).
TOKEN_DEFAULTS: dict[str, Any] = {"createdAt": NOW}

# §1 #8, §3.5: examples/file_ids/stop/tools declare `default: undefined` (stay absent);
# messages and files are plain arrays, so they default to [] (belief, §1 #8).
CONVERSATION_DEFAULTS: dict[str, Any] = {
    "title": "New Chat",
    "endpoint": None,
    "isArchived": False,
    "tags": [],
    "messages": [],
    "files": [],
}

# §3.6: files/content/attachments/feedback/plugin(s) default to undefined (absent).
MESSAGE_DEFAULTS: dict[str, Any] = {
    "user": None,
    "model": None,
    "isCreatedByUser": False,
    "unfinished": False,
    "error": False,
    "_meiliIndex": False,
}

# §3.7
FILE_DEFAULTS: dict[str, Any] = {"object": "file", "usage": 0, "source": "local"}

# §3.9: tools/actions/avatar/authorName/support_contact default to undefined.
AGENT_DEFAULTS: dict[str, Any] = {
    "tool_kwargs": [],
    "agent_ids": [],
    "conversation_starters": [],
    "tool_resources": {},
    "projectIds": [],
    "versions": [],
    "category": "general",
    "is_promoted": False,
}

# §3.10
PROMPTGROUP_DEFAULTS: dict[str, Any] = {
    "numberOfGenerations": 0,
    "oneliner": "",
    "category": "",
    "projectIds": [],
}

# §3.11
CONVERSATIONTAG_DEFAULTS: dict[str, Any] = {"count": 0, "position": 0}

# §3.12: permBits defaults to VIEW.
ACLENTRY_DEFAULTS: dict[str, Any] = {"permBits": 1, "grantedAt": NOW}

DEFAULTS: dict[str, dict[str, Any]] = {
    "users": USER_DEFAULTS,
    "sessions": {},
    "tokens": TOKEN_DEFAULTS,
    "balances": BALANCE_DEFAULTS,
    "conversations": CONVERSATION_DEFAULTS,
    "messages": MESSAGE_DEFAULTS,
    "files": FILE_DEFAULTS,
    "transactions": {},
    "agents": AGENT_DEFAULTS,
    "prompts": {},
    "promptgroups": PROMPTGROUP_DEFAULTS,
    "aclentries": ACLENTRY_DEFAULTS,
    "conversationtags": CONVERSATIONTAG_DEFAULTS,
}

# §2: collections whose schema has `timestamps: true` (§1 #7).
TIMESTAMPED: frozenset[str] = frozenset(
    c for c in COLLECTIONS if c not in {"sessions", "tokens", "balances"}
)


def materialize(defaults: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A fresh copy of ``defaults`` with ``NOW`` replaced by ``now`` (mutable values copied)."""
    return {k: now if v is NOW else copy.deepcopy(v) for k, v in defaults.items()}


# --------------------------------------------------------------------------------------------
# Token rates (§4.5): USD per 1M tokens == credits per token; longest substring key wins.
# --------------------------------------------------------------------------------------------

DEFAULT_RATE = 6

TOKEN_RATES: dict[str, dict[str, float]] = {
    # §4.5 examples
    "gpt-4o": {"prompt": 2.5, "completion": 10},
    "gpt-4o-mini": {"prompt": 0.15, "completion": 0.6},
    "gpt-4.1": {"prompt": 2, "completion": 8},
    "gpt-5": {"prompt": 1.25, "completion": 10},
    "claude-3-5-sonnet": {"prompt": 3, "completion": 15},
    "claude-sonnet-4": {"prompt": 3, "completion": 15},
    "gemini-2.5-pro": {"prompt": 1.25, "completion": 10},
    # further keys of api/models/tx.js for the §7 models (values from a later upstream
    # snapshot of the same table; B may differ slightly for deepseek/llama)
    "gpt-4.1-mini": {"prompt": 0.4, "completion": 1.6},
    "gpt-4.1-nano": {"prompt": 0.1, "completion": 0.4},
    "gpt-5-mini": {"prompt": 0.25, "completion": 2},
    "o1": {"prompt": 15, "completion": 60},
    "o3": {"prompt": 2, "completion": 8},
    "o3-mini": {"prompt": 1.1, "completion": 4.4},
    "o4-mini": {"prompt": 1.1, "completion": 4.4},
    "claude-3-haiku": {"prompt": 0.25, "completion": 1.25},
    "claude-3-5-haiku": {"prompt": 0.8, "completion": 4},
    "claude-3-7-sonnet": {"prompt": 3, "completion": 15},
    "claude-opus-4": {"prompt": 15, "completion": 75},
    "gemini-2.0-flash": {"prompt": 0.1, "completion": 0.4},
    "gemini-2.5-flash": {"prompt": 0.3, "completion": 2.5},
    "deepseek-chat": {"prompt": 0.28, "completion": 0.42},
    "deepseek-reasoner": {"prompt": 0.28, "completion": 0.42},
    "llama3": {"prompt": 0.3, "completion": 0.6},
    "llama3.1:8b": {"prompt": 0.22, "completion": 0.22},
    "llama-3.3-70b": {"prompt": 2.65, "completion": 3.5},
    "mistral-large": {"prompt": 2, "completion": 6},
    # legacy aliases tx.js resolves by name: gpt-3.5 -> '4k', gpt-4-turbo -> 'gpt-4-1106',
    # other gpt-4 -> '8k'
    "gpt-3.5": {"prompt": 1.5, "completion": 2},
    "gpt-4-turbo": {"prompt": 10, "completion": 30},
    "gpt-4": {"prompt": 30, "completion": 60},
}

# §4.5 cache rates (write / read) for structured prompt transactions.
CACHE_RATES: dict[str, dict[str, float]] = {
    "claude-3-5-sonnet": {"write": 3.75, "read": 0.3},
    "claude-3-7-sonnet": {"write": 3.75, "read": 0.3},
    "claude-sonnet-4": {"write": 3.75, "read": 0.3},
    "claude-3-5-haiku": {"write": 1, "read": 0.08},
}


def value_key(model: str | None, table: Mapping[str, object] = TOKEN_RATES) -> str | None:
    """The longest key of ``table`` contained in ``model`` (§4.5), or None."""
    if not model:
        return None
    matches = [key for key in table if key in model]
    return max(matches, key=len) if matches else None


def multiplier(model: str | None, token_type: str | None) -> float:
    """Credits per token for ``model`` and ``token_type`` ('prompt' | 'completion'), §4.5.

    No model or no token type (e.g. 'credits' top-ups) ⇒ 1; unknown model ⇒ ``DEFAULT_RATE``.
    """
    if not model or not token_type:
        return 1
    key = value_key(model)
    if key is None:
        return DEFAULT_RATE
    return TOKEN_RATES[key].get(token_type, DEFAULT_RATE)


def cache_multiplier(model: str | None, kind: Literal["write", "read"]) -> float | None:
    """Cache write/read rate for prompt-caching models, or None when the model has none."""
    key = value_key(model, CACHE_RATES)
    return CACHE_RATES[key][kind] if key else None


class StrictModeError(ValueError):
    """Mongoose's StrictModeError: an upsert whose filter names a path outside the schema
    (mongoose 8.12-8.18 lib/cast.js lines 301-306: `options.upsert && strict` throws)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f'Path "{path}" is not in schema, strict mode is `true`, and upsert is `true`.'
        )
        self.path = path


class CastError(ValueError):
    """Mongoose's CastError: a value that cannot be cast to its path's type (e.g. a bad
    ObjectId string). Both paths raise it, so an error on both sides compares equal."""

    def __init__(self, path: str, value: object, kind: str = "ObjectId") -> None:
        super().__init__(f'Cast to {kind} failed for value "{value}" at path "{path}"')
        self.path = path
        self.value = value
