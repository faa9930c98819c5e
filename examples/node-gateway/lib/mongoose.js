// § numbers refer to docs/librechat.md.
'use strict';
// The Mongoose behaviours LibreChat's queries rely on, spelled out for the driver
// (docs/librechat.md §1; the same facts as migrator/model.py, which
// tests/test_external_gateway.py checks this file against): ObjectId and Date casts, strict
// paths, schema defaults on upserts, timestamps.
const { ObjectId } = require('mongodb');
const { GatewayError, castError } = require('./errors');
const { isDict } = require('./values');

const HEX24 = /^[0-9a-fA-F]{24}$/;

// §1 #2: a string on an ObjectId path becomes an ObjectId; an invalid one throws CastError.
// Anything else (an ObjectId already, null) passes unchanged.
function oid(value, path = '_id') {
  if (typeof value === 'string') {
    if (!HEX24.test(value)) throw castError(path, value);
    return ObjectId.createFromHexString(value);
  }
  return value;
}

// `user` is a String path on conversations / messages: an ObjectId is cast to its hex, never
// the other way.
function stringOwner(user) {
  return user instanceof ObjectId ? user.toHexString() : user;
}

// The ISO 8601 forms Python's datetime.fromisoformat reads (the oracle's date parser): date
// YYYY-MM-DD or YYYYMMDD, then optionally any one separator character and HH[:MM[:SS[.f]]],
// then Z or an offset. A string without an offset is UTC. Null when it does not parse.
const ISO = new RegExp(
  '^(?:(\\d{4})-(\\d{2})-(\\d{2})|(\\d{4})(\\d{2})(\\d{2}))' +
    '(?:.(\\d{2})(?::?(\\d{2})(?::?(\\d{2})(?:[.,](\\d+))?)?)?' +
    '(Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2}(?:\\.\\d+)?)?)?)?)?$',
  's',
);

function fromIsoFormat(text) {
  const m = ISO.exec(text);
  if (!m) return null;
  const [year, month, day] = (m[1] ? m.slice(1, 4) : m.slice(4, 7)).map(Number);
  const [hour, minute, second] = [Number(m[7] || 0), Number(m[8] || 0), Number(m[9] || 0)];
  const micro = m[10] ? Number(m[10].slice(0, 6).padEnd(6, '0')) : 0;
  if (month < 1 || month > 12 || year < 1) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Math.floor(micro / 1000));
  let offsetMs = 0;
  const tz = m[11];
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).split('.')[0].replace(/:/g, '');
    const [h, mi, s] = [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4, 6)].map(Number);
    if (h > 23 || mi > 59 || s > 59) return null;
    offsetMs = sign * ((h * 60 + mi) * 60 + s) * 1000;
  }
  return new Date(date.getTime() - offsetMs);
}

// §1 #4: a string on a Date path goes through `new Date(str)`; an Invalid Date is a CastError.
// Null and Dates pass; other values are left to the server, as the oracle does.
function jsDate(value, path) {
  if (typeof value !== 'string') return value;
  let text = value.trim();
  if (text.endsWith('z')) text = `${text.slice(0, -1)}Z`;
  const parsed = fromIsoFormat(text);
  if (parsed === null) throw castError(path, value, 'date');
  return parsed;
}

// JS `Date.prototype.toISOString()`.
function iso(date) {
  return date.toISOString();
}

// --- schema facts (docs/librechat.md §3, LibreChat v0.8.0-rc3) -----------------------------

const PROVIDER_ID_FIELDS = [
  'googleId', 'facebookId', 'openidId', 'samlId', 'ldapId', 'githubId', 'discordId', 'appleId',
];
const BASE = ['_id', '__v'];
const TS = ['createdAt', 'updatedAt'];
const TIMESTAMPED = [...BASE, ...TS];

const CONVERSATION_PRESET_FIELDS = [
  'endpoint', 'endpointType', 'model', 'region', 'chatGptLabel', 'examples', 'modelLabel',
  'promptPrefix', 'temperature', 'top_p', 'topP', 'topK', 'maxOutputTokens', 'maxTokens',
  'presence_penalty', 'frequency_penalty', 'file_ids', 'resendImages', 'promptCache',
  'thinking', 'thinkingBudget', 'system', 'resendFiles', 'imageDetail', 'agent_id',
  'assistant_id', 'instructions', 'stop', 'isArchived', 'iconURL', 'greeting', 'spec',
  'tags', 'tools', 'maxContextTokens', 'max_tokens', 'useResponsesApi', 'web_search',
  'disableStreaming', 'reasoning_effort', 'reasoning_summary', 'verbosity',
];

const SCHEMA_FIELDS = {
  users: new Set([...TIMESTAMPED,
    'name', 'username', 'email', 'emailVerified', 'password', 'avatar', 'provider', 'role',
    ...PROVIDER_ID_FIELDS, 'plugins', 'twoFactorEnabled', 'totpSecret', 'backupCodes',
    'refreshToken', 'expiresAt', 'termsAccepted', 'personalization', 'idOnTheSource']),
  sessions: new Set([...BASE, 'refreshTokenHash', 'expiration', 'user']),
  tokens: new Set([...BASE,
    'userId', 'email', 'type', 'identifier', 'token', 'createdAt', 'expiresAt', 'metadata']),
  balances: new Set([...BASE,
    'user', 'tokenCredits', 'autoRefillEnabled', 'refillIntervalValue', 'refillIntervalUnit',
    'lastRefill', 'refillAmount']),
  conversations: new Set([...TIMESTAMPED, ...CONVERSATION_PRESET_FIELDS,
    'conversationId', 'title', 'user', 'messages', 'agentOptions', 'files', 'expiredAt']),
  messages: new Set([...TIMESTAMPED,
    'messageId', 'conversationId', 'user', 'model', 'endpoint', 'conversationSignature',
    'clientId', 'invocationId', 'parentMessageId', 'tokenCount', 'summaryTokenCount',
    'sender', 'text', 'summary', 'isCreatedByUser', 'unfinished', 'error', 'finish_reason',
    'feedback', '_meiliIndex', 'files', 'plugin', 'plugins', 'content', 'thread_id',
    'iconURL', 'attachments', 'expiredAt']),
  files: new Set([...TIMESTAMPED,
    'user', 'conversationId', 'file_id', 'temp_file_id', 'bytes', 'filename', 'filepath',
    'object', 'embedded', 'type', 'text', 'context', 'usage', 'source', 'model', 'width',
    'height', 'metadata', 'expiresAt']),
  transactions: new Set([...TIMESTAMPED,
    'user', 'conversationId', 'tokenType', 'model', 'context', 'valueKey', 'rate',
    'rawAmount', 'tokenValue', 'inputTokens', 'writeTokens', 'readTokens']),
  agents: new Set([...TIMESTAMPED,
    'id', 'name', 'description', 'instructions', 'avatar', 'provider', 'model',
    'model_parameters', 'artifacts', 'access_level', 'recursion_limit', 'tools',
    'tool_kwargs', 'actions', 'author', 'authorName', 'hide_sequential_outputs',
    'end_after_tools', 'agent_ids', 'conversation_starters', 'tool_resources',
    'projectIds', 'versions', 'category', 'support_contact', 'is_promoted']),
  prompts: new Set([...TIMESTAMPED, 'groupId', 'author', 'prompt', 'type']),
  promptgroups: new Set([...TIMESTAMPED,
    'name', 'numberOfGenerations', 'oneliner', 'category', 'projectIds', 'productionId',
    'author', 'authorName', 'command']),
  aclentries: new Set([...TIMESTAMPED,
    'principalType', 'principalId', 'principalModel', 'resourceType', 'resourceId',
    'permBits', 'roleId', 'inheritedFrom', 'grantedBy', 'grantedAt']),
  conversationtags: new Set([...TIMESTAMPED, 'tag', 'user', 'description', 'count', 'position']),
};

// §1 #4: Date paths (a string in a filter or an update is parsed as a JS date).
const DATE_FIELDS = {
  users: new Set([...TS, 'expiresAt']),
  sessions: new Set(['expiration']),
  tokens: new Set(['createdAt', 'expiresAt']),
  balances: new Set(['lastRefill']),
  conversations: new Set([...TS, 'expiredAt']),
  messages: new Set([...TS, 'expiredAt']),
  files: new Set([...TS, 'expiresAt']),
  transactions: new Set(TS),
  agents: new Set(TS),
  prompts: new Set(TS),
  promptgroups: new Set(TS),
  aclentries: new Set([...TS, 'grantedAt']),
  conversationtags: new Set(TS),
};

// §1 #2: paths where a hex string is cast to an ObjectId (besides `_id` everywhere).
const OBJECTID_FIELDS = {
  sessions: new Set(['user']),
  tokens: new Set(['userId']),
  balances: new Set(['user']),
  conversations: new Set(['messages']),
  files: new Set(['user']),
  transactions: new Set(['user']),
  agents: new Set(['author', 'projectIds']),
  prompts: new Set(['groupId', 'author']),
  promptgroups: new Set(['author', 'productionId', 'projectIds']),
  aclentries: new Set(['resourceId', 'roleId', 'inheritedFrom', 'grantedBy']),
};

// §1 #11: lowercase setters (on save and on query filters).
const LOWERCASE_FIELDS = { users: new Set(['email', 'username']) };

// §2: each collection's owner path and its type (a String path on conversations, messages and
// conversationtags: an ObjectId there is cast to its hex).
const OWNER_FIELDS = {
  sessions: ['user', 'objectid'],
  tokens: ['userId', 'objectid'],
  balances: ['user', 'objectid'],
  conversations: ['user', 'string'],
  messages: ['user', 'string'],
  files: ['user', 'objectid'],
  transactions: ['user', 'objectid'],
  agents: ['author', 'objectid'],
  prompts: ['author', 'objectid'],
  promptgroups: ['author', 'objectid'],
  conversationtags: ['user', 'string'],
};

// --- version-dependent facts of LibreChat's code (B: v0.8.0-rc3), as migrator/model.py ----

// data-schemas `findToken` (B): a condition per *truthy* key, in this order, AND-ed (N adds
// `type` and lowercases `email`).
const TOKEN_QUERY_KEYS = ['userId', 'token', 'email', 'identifier'];
// getToolFilesByIds: the tool resources with a condition. B's text resource (OCR'd / "upload
// as text" files) is `EToolResources.ocr`; N renamed it `context`.
const TOOL_RESOURCE_TEXT = 'ocr';
const TOOL_RESOURCE_FILE_SEARCH = 'file_search';
const TOOL_RESOURCE_EXECUTE_CODE = 'execute_code';

// §1 #8-9: schema defaults (`NOW`: the time of the write), in the schema's order.
const NOW = Symbol('now');
const DEFAULTS = {
  users: {
    username: '', emailVerified: false, provider: 'local', role: 'USER', plugins: [],
    twoFactorEnabled: false, backupCodes: [], refreshToken: [], termsAccepted: false,
    personalization: { memories: true },
  },
  balances: {
    tokenCredits: 0, autoRefillEnabled: false, refillIntervalValue: 30,
    refillIntervalUnit: 'days', lastRefill: NOW, refillAmount: 0,
  },
  conversations: {
    title: 'New Chat', endpoint: null, isArchived: false, tags: [], messages: [], files: [],
  },
  messages: {
    user: null, model: null, isCreatedByUser: false, unfinished: false, error: false,
    _meiliIndex: false,
  },
  files: { object: 'file', usage: 0, source: 'local' },
  agents: {
    tool_kwargs: [], agent_ids: [], conversation_starters: [], tool_resources: {},
    projectIds: [], versions: [], category: 'general', is_promoted: false,
  },
  promptgroups: { numberOfGenerations: 0, oneliner: '', category: '', projectIds: [] },
};

function clone(value) {
  if (Array.isArray(value)) return value.map(clone);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  }
  return value;
}

// A fresh copy of `defaults` with NOW replaced by `now`.
function materialize(defaults, now) {
  const out = {};
  for (const [key, value] of Object.entries(defaults)) {
    out[key] = value === NOW ? now : clone(value);
  }
  return out;
}

// §1 #6-7: strict `$set` — unknown top-level keys dropped, Date paths cast, and `createdAt`
// dropped because timestamps make it immutable.
function strictSet(collection, data) {
  const fields = SCHEMA_FIELDS[collection];
  const dates = DATE_FIELDS[collection] || new Set();
  const out = {};
  for (const [key, value] of Object.entries(data)) {
    if (!fields.has(key) || key === 'createdAt') continue;
    out[key] = dates.has(key) ? jsDate(value, key) : value;
  }
  return out;
}

// §1 #7-8: what Mongoose adds with $setOnInsert on an upsert: defaults of paths the update does
// not name, `createdAt` (with timestamps) and `__v: 0` unless the update sets `__v`.
function onInsert(collection, touched, now, { timestamps = true } = {}) {
  const out = {};
  for (const [key, value] of Object.entries(materialize(DEFAULTS[collection] || {}, now))) {
    if (!touched.has(key)) out[key] = value;
  }
  if (timestamps) out.createdAt = now;
  if (!touched.has('__v')) out.__v = 0;
  return out;
}

// --- Mongoose 8's query cast (lib/cast.js, 8.12.1-8.18.0; the oracle's services/mongoose.py) ---

const LOGICAL = new Set(['$and', '$or', '$nor']);
// Operators whose operand (or each element of it) takes the path's type.
const TYPED = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$all']);

function strictModeError(path) {
  return new GatewayError(
    'StrictModeError', `Path "${path}" is not in schema, strict mode is \`true\`, and upsert is \`true\`.`,
  );
}

// The filter Mongoose sends for `query` on `collection`'s model:
// - `$and` / `$or` / `$nor` (lines 65-90): the operand must be an array of objects (else a
//   CastError); each element is cast; an element that casting emptied (all its paths unknown)
//   is removed, and an operator left with no element is deleted ({$or: []} -> {}: every
//   document, where the server itself would reject the empty array);
// - a path outside the schema (lines 296-312): a StrictModeError with `upsert`, else deleted
//   (strictQuery), so the filter matches as if the condition were absent;
// - a known path's value cast by its schema type (castValue).
function castFilter(collection, query, { upsert = false } = {}) {
  const fields = SCHEMA_FIELDS[collection];
  const out = {};
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined) continue;
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value)) throw castError(key, value, 'Array');
      const kept = [];
      value.forEach((part, i) => {
        if (!isDict(part)) throw castError(`${key}.${i}`, part, 'Object');
        const cast = castFilter(collection, part, { upsert });
        // emptied by casting: spliced out (line 82); an element empty from the start stays
        if (Object.keys(cast).length || !Object.keys(part).length) kept.push(cast);
      });
      if (kept.length) out[key] = kept; // `delete empty: {$or: []} -> {}` (lines 87-90)
    } else if (key.startsWith('$')) {
      out[key] = value; // $where, $expr, $text, $comment: not path conditions
    } else if (!fields.has(key.split('.', 1)[0])) {
      if (upsert) throw strictModeError(key);
      // strictQuery: the unknown path is deleted (line 311)
    } else {
      out[key] = castValue(collection, key, value);
    }
  }
  return out;
}

// One path's condition cast by the schema type (ObjectId, Date, lowercase, String owner).
function castValue(collection, path, value) {
  if (isDict(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = TYPED.has(k) ? castValue(collection, path, v) : v;
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => castValue(collection, path, v));
  const top = path.split('.', 1)[0];
  if (top === '_id' || (OBJECTID_FIELDS[collection] || new Set()).has(top)) return oid(value, path);
  if ((DATE_FIELDS[collection] || new Set()).has(top)) return jsDate(value, path);
  if ((LOWERCASE_FIELDS[collection] || new Set()).has(top) && typeof value === 'string') return value.toLowerCase();
  const owner = OWNER_FIELDS[collection];
  if (owner && owner[0] === top && owner[1] === 'string' && typeof value !== 'string' && value !== null) {
    return require('./js').pyStrValue(value); // a String path casts an ObjectId to its hex (§1 #2)
  }
  return value;
}

// select:false paths (§1 #10).
const USER_DEFAULT_PROJECTION = { password: 0, totpSecret: 0, backupCodes: 0 };
const USER_HIDDEN = ['password', 'totpSecret', 'backupCodes'];
const MESSAGE_HIDDEN = { _meiliIndex: 0 };

module.exports = {
  oid, stringOwner, fromIsoFormat, jsDate, iso, SCHEMA_FIELDS, DATE_FIELDS, OBJECTID_FIELDS,
  LOWERCASE_FIELDS, OWNER_FIELDS, TOKEN_QUERY_KEYS, TOOL_RESOURCE_TEXT, TOOL_RESOURCE_FILE_SEARCH,
  TOOL_RESOURCE_EXECUTE_CODE, NOW, DEFAULTS, materialize, strictSet, onInsert,
  castFilter, castValue, USER_DEFAULT_PROJECTION, USER_HIDDEN, MESSAGE_HIDDEN, PROVIDER_ID_FIELDS,
};
