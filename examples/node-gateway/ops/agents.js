'use strict';
// Agents: load one, the ACL-filtered list, the promoted count, create and update
// (docs/librechat.md §4.6; the oracle is migrator/services/agents/legacy.py; the package's
// docstring gives the shapes returned, its shared.py the helpers this file's lib/js.js follows).
const { ObjectId } = require('mongodb');
const store = require('../lib/db');
const { GatewayError, castError } = require('../lib/errors');
const { oid, materialize, DEFAULTS, SCHEMA_FIELDS } = require('../lib/mongoose');
const { need, plain, isNumeric, isDict, jsTruthy, pyTruthy, entries } = require('../lib/values');
const { jsParseInt, normalizeLimit, isDuplicateVersion, legacyCursor, legacyJsDate, page, UPDATE_OPERATORS } = require('../lib/js');
const acl = require('../lib/acl');

const LIST_PROJECTION = {
  id: 1, _id: 1, name: 1, avatar: 1, author: 1, projectIds: 1, description: 1, updatedAt: 1,
  category: 1, support_contact: 1, is_promoted: 1,
};
const AGENT_OID_FIELDS = new Set(['author', 'projectIds']);
const VERSION_EXCLUDED = new Set(['__v', '_id', 'id', 'versions', 'author']);
const REQUIRED = ['id', 'provider', 'model', 'author'];

// The list handler: a query string goes through parseInt(x, 10) (NaN => VIEW); a number is kept;
// anything else is VIEW.
function parseRequiredPermission(value) {
  if (typeof value === 'string') {
    const parsed = jsParseInt(value, 10);
    return Number.isNaN(parsed) ? acl.VIEW : parsed;
  }
  return isNumeric(value) ? value : acl.VIEW;
}

// The list handler's base filter: category, promoted flag, the search text as an unescaped regex.
function listFilter(category, search, promoted) {
  const query = {};
  if (typeof category === 'string' && category.trim() !== '') query.category = category;
  if (promoted === '1') query.is_promoted = true;
  else if (promoted === '0') query.is_promoted = { $ne: true };
  if (typeof search === 'string' && search.trim() !== '') {
    const term = search.trim();
    query.$or = [{ name: { $regex: term, $options: 'i' } }, { description: { $regex: term, $options: 'i' } }];
  }
  return query;
}

// Mongoose's cast of one agent path: ObjectId paths, the category trim setter; Mixed paths
// (versions, tool_resources...) stay as they are.
function castAgent(key, value) {
  const top = key.split('.', 1)[0];
  if (isDict(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k.startsWith('$') ? castAgent(key, v) : v]));
  }
  if (AGENT_OID_FIELDS.has(top)) return Array.isArray(value) ? value.map((v) => oid(v, top)) : oid(value, top);
  if (top === 'category' && typeof value === 'string') return value.trim();
  return value;
}

function removeNullish(data) {
  return Object.fromEntries(entries(data).filter(([, v]) => v !== null));
}

// updateAgentHandler's reply: `author` as a string, kept only for the author.
function presentAuthor(agent, userId) {
  if (agent === null) return null;
  const out = { ...agent };
  if (jsTruthy(out.author)) out.author = String(out.author instanceof ObjectId ? out.author.toHexString() : out.author);
  if (out.author !== userId) delete out.author;
  return out;
}

// getListAgentsByAccess: find({...filter, _id: {$in}}) sorted {updatedAt: -1, _id: 1}, limit
// n + 1; the cursor {updatedAt, _id}; an Invalid Date cursor fails Mongoose's Date cast.
async function listByAccess(accessibleIds, other, limit, after) {
  const n = normalizeLimit(limit);
  let query = { ...other };
  if (typeof query.category === 'string') query.category = query.category.trim();
  query._id = { $in: [...accessibleIds] };
  const decoded = legacyCursor(after);
  if (decoded !== null) {
    const when = legacyJsDate(decoded.updatedAt);
    if (when === null) throw castError('updatedAt', String(decoded.updatedAt), 'date');
    query = { $and: [query, { $or: [{ updatedAt: { $lt: when } }, { updatedAt: when, _id: { $gt: decoded.id } }] }] };
  }
  const rows = await store.find('agents', query, {
    projection: LIST_PROJECTION,
    sort: { updatedAt: -1, _id: 1 },
    limit: n === null ? 0 : n + 1,
  });
  const { data, hasMore, after: next } = page(rows, n);
  for (const agent of data) if (jsTruthy(agent.author)) agent.author = agent.author.toString();
  return {
    object: 'list',
    data,
    first_id: data.length ? data[0].id ?? null : null,
    last_id: data.length ? data[data.length - 1].id ?? null : null,
    has_more: hasMore,
    after: next,
  };
}

// B's updateAgent: findOne, the duplicate-version check, a version snapshot pushed, then
// findOneAndUpdate(search, update, {new: true}).
async function updateModel(search, updateData, updatingUserId) {
  const update = { ...updateData };
  const current = await store.findOne('agents', search);
  if (current !== null) {
    const versionData = Object.fromEntries(Object.entries(current).filter(([k]) => !VERSION_EXCLUDED.has(k)));
    const direct = Object.fromEntries(Object.entries(update).filter(([k]) => !UPDATE_OPERATORS.includes(k)));
    const shouldVersion = Object.keys(direct).length > 0 || UPDATE_OPERATORS.some((op) => update[op] !== undefined && update[op] !== null);
    if (shouldVersion && isDuplicateVersion(update, versionData, current.versions ?? null)) {
      return { ...current, version: current.versions.length }; // duplicate: no write
    }
    // (The actionsHash of agents with actions is not reproduced, as in the oracle.)
    const entry = { ...versionData, ...direct, updatedAt: new Date() };
    if (pyTruthy(updatingUserId)) entry.updatedBy = acl.newObjectId(updatingUserId);
    if (shouldVersion) update.$push = { ...(update.$push || {}), versions: entry };
  }
  const plainKeys = Object.fromEntries(Object.entries(update).filter(([k]) => !k.startsWith('$')));
  Object.assign(plainKeys, update.$set || {});
  const changes = {};
  for (const [k, v] of Object.entries(plainKeys)) {
    if (SCHEMA_FIELDS.agents.has(k.split('.', 1)[0]) && k !== 'createdAt') changes[k] = castAgent(k, v);
  }
  changes.updatedAt = new Date();
  const mongoUpdate = { $set: changes };
  for (const op of UPDATE_OPERATORS) {
    if (!pyTruthy(update[op])) continue;
    const kept = {};
    for (const [k, v] of Object.entries(update[op])) if (SCHEMA_FIELDS.agents.has(k.split('.', 1)[0])) kept[k] = castAgent(k, v);
    if (Object.keys(kept).length) mongoUpdate[op] = kept;
  }
  return store.findOneAndUpdate('agents', search, mongoUpdate);
}

const reads = {
  // loadAgent: no id => no query; findOne({id}) plus `version` (the number of versions).
  async 'agents.get'(args) {
    const agentId = need(args, 'agent_id');
    if (!jsTruthy(agentId)) return null;
    const id = typeof agentId === 'string' ? agentId : String(agentId instanceof ObjectId ? agentId.toHexString() : plain(agentId));
    const agent = await store.findOne('agents', { id });
    if (agent === null) return null;
    agent.version = agent.versions !== undefined && agent.versions !== null ? agent.versions.length : 0;
    return agent;
  },

  // GET /api/agents: ACL ids (any principal, $bitsAllSet), then one page; public ones flagged.
  async 'agents.list'(args) {
    const { limit = null, cursor = null, category = null, search = null, promoted = null } = args;
    const required = parseRequiredPermission(args.required_permission ?? null);
    const other = listFilter(category, search, promoted);
    const ids = await acl.accessible(need(args, 'user_id'), 'agent', required);
    const pub = await acl.publicIds('agent');
    const result = await listByAccess(ids, other, limit, cursor);
    acl.markPublic(result.data, pub);
    return result;
  },

  // countPromotedAgents (marketplace tabs).
  async 'agents.count_promoted'() {
    return store.count('agents', { is_promoted: true });
  },
};

const writes = {
  // POST /api/agents: createAgent (versions[0] the raw snapshot, Mixed) then the owner ACL entry.
  async 'agents.create'(args) {
    const userId = need(args, 'user_id');
    const agentId = need(args, 'agent_id');
    const payload = removeNullish(need(args, 'data'));
    const tools = pyTruthy(payload.tools) ? payload.tools : [];
    delete payload.tools;
    Object.assign(payload, { id: agentId, author: userId, tools: typeof tools === 'string' ? [...tools] : [...tools] });
    const timestamp = new Date();
    const snapshot = Object.fromEntries(Object.entries(payload).filter(([k]) => k !== 'author'));
    const initial = {
      ...payload,
      versions: [{ ...snapshot, createdAt: timestamp, updatedAt: timestamp }],
      category: pyTruthy(payload.category) ? payload.category : 'general',
    };
    const now = new Date();
    const doc = { _id: new ObjectId(), ...materialize(DEFAULTS.agents, now) };
    for (const [key, value] of Object.entries(initial)) {
      if (SCHEMA_FIELDS.agents.has(key)) doc[key] = castAgent(key, value);
    }
    const missing = REQUIRED.filter((f) => doc[f] === undefined || doc[f] === null || doc[f] === '');
    if (missing.length) throw new GatewayError('ValueError', `Agent validation failed: ${missing.join(', ')} required`);
    for (const key of ['createdAt', 'updatedAt']) if (!(key in doc)) doc[key] = now;
    if (!('__v' in doc)) doc.__v = 0;
    await (await store.coll('agents')).insertOne(doc);
    await acl.grantOwner(userId, 'agent', doc._id);
    return doc;
  },

  // PATCH /api/agents/:id: getAgent (404 => null), updateAgent when anything is left after
  // dropping nullish values and _id; `author` shown only to its author.
  async 'agents.update'(args) {
    const agentId = need(args, 'agent_id');
    const userId = need(args, 'user_id');
    const updateData = removeNullish(need(args, 'data'));
    delete updateData._id;
    const existing = await store.findOne('agents', { id: agentId });
    if (existing === null) return null;
    const updated = Object.keys(updateData).length ? await updateModel({ id: agentId }, updateData, userId) : existing;
    return presentAuthor(updated, userId);
  },
};

module.exports = { reads, writes, listByAccess };
