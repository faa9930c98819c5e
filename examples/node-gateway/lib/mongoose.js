// § numbers refer to docs/librechat.md.
'use strict';
// The Mongoose behaviours LibreChat's queries rely on, spelled out for the driver
// (docs/librechat.md §1; the same facts as migrator/model.py, which
// tests/test_external_gateway.py checks this file against): ObjectId and Date casts, strict
// paths, schema defaults on upserts, timestamps.
const { ObjectId } = require('mongodb');
const { castError } = require('./errors');

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

// §1 #4: Date paths.
const DATE_FIELDS = {
  conversations: new Set([...TS, 'expiredAt']),
  messages: new Set([...TS, 'expiredAt']),
};

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

// Keys of `data` whose top-level path is in the schema (strict / strictQuery).
function strictKeys(collection, data) {
  const fields = SCHEMA_FIELDS[collection];
  const out = {};
  for (const [key, value] of Object.entries(data)) {
    if (fields.has(key.split('.', 1)[0])) out[key] = value;
  }
  return out;
}

// select:false paths (§1 #10).
const USER_DEFAULT_PROJECTION = { password: 0, totpSecret: 0, backupCodes: 0 };
const USER_HIDDEN = ['password', 'totpSecret', 'backupCodes'];
const MESSAGE_HIDDEN = { _meiliIndex: 0 };

module.exports = {
  oid, stringOwner, fromIsoFormat, jsDate, iso, SCHEMA_FIELDS, DATE_FIELDS, NOW,
  DEFAULTS, materialize, strictSet, onInsert, strictKeys, USER_DEFAULT_PROJECTION, USER_HIDDEN,
  MESSAGE_HIDDEN, PROVIDER_ID_FIELDS,
};
