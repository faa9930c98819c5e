// § numbers refer to docs/librechat.md.
'use strict';
// Files: uploads, attachments and agent tool files (docs/librechat.md §4.4; the oracle is
// migrator/services/files/legacy.py).
const store = require('../lib/db');
const { GatewayError } = require('../lib/errors');
const {
  oid, castFilter, materialize, DEFAULTS, SCHEMA_FIELDS, TOOL_RESOURCE_TEXT, TOOL_RESOURCE_FILE_SEARCH,
  TOOL_RESOURCE_EXECUTE_CODE,
} = require('../lib/mongoose');
const { need, pyTruthy, entries } = require('../lib/values');

const LIST_PROJECTION = { text: 0 }; // getFiles' default select: extracted text stays out of lists
const LIST_SORT = { updatedAt: -1 };
const FILE_TTL_MS = 3600 * 1000; // createFile: expiresAt = now + 1 h
const TOOL_FILES_ERROR = 'Error retrieving tool files';

function inSchema(key) {
  return SCHEMA_FIELDS.files.has(key.split('.', 1)[0]);
}

// strictQuery: unknown paths dropped, values cast by their schema type (Mongoose's query cast).
function strictFilter(query) {
  return castFilter('files', query);
}

// strict updates: unknown keys dropped, `user` cast, createdAt immutable.
function strictSet(data) {
  const out = {};
  for (const [key, value] of entries(data)) {
    if (inSchema(key) && key !== 'createdAt') out[key] = key === 'user' ? oid(value, 'user') : value;
  }
  return out;
}

const reads = {
  // GET /api/files: getFiles({user}), text excluded, newest update first, no limit.
  async 'files.list_for_user'(args) {
    const filter = { user: oid(need(args, 'user_id'), 'user') };
    return store.find('files', filter, { projection: LIST_PROJECTION, sort: LIST_SORT });
  },

  // getFiles({file_id: {$in}}): no user filter in B.
  async 'files.by_ids'(args) {
    const filter = { file_id: { $in: [...need(args, 'file_ids')] } };
    return store.find('files', filter, { projection: LIST_PROJECTION, sort: LIST_SORT });
  },

  // getToolFilesByIds (B): OCR'd text files of agents, vectorised files, code files, by the
  // tool resources named (B's text resource is `ocr`: TOOL_RESOURCE_TEXT). Where no requested
  // resource has a condition, Mongoose's cast deletes the empty `$or` (lib/cast.js lines
  // 87-90), so every file among the ids qualifies. Any failure is one generic Error.
  async 'files.tool_files_by_ids'(args) {
    const fileIds = need(args, 'file_ids');
    const resources = new Set(need(args, 'tool_resources') || []);
    if (!pyTruthy(fileIds) || resources.size === 0) return [];
    try {
      const either = [];
      if (resources.has(TOOL_RESOURCE_TEXT)) either.push({ text: { $exists: true, $ne: null }, context: 'agents' });
      if (resources.has(TOOL_RESOURCE_FILE_SEARCH)) either.push({ embedded: true });
      if (resources.has(TOOL_RESOURCE_EXECUTE_CODE)) either.push({ 'metadata.fileIdentifier': { $exists: true } });
      const query = castFilter('files', { file_id: { $in: [...fileIds] }, $or: either });
      return await store.find('files', query, { projection: LIST_PROJECTION, sort: LIST_SORT });
    } catch (err) {
      throw new GatewayError('RuntimeError', TOOL_FILES_ERROR);
    }
  },

  // findFileById(file_id, options): findOne({file_id, ...options}), text included; option keys
  // outside the schema dropped by strictQuery.
  async 'files.find_by_file_id'(args) {
    return store.findOne('files', strictFilter({ file_id: need(args, 'file_id'), ...(args.extra || {}) }));
  },
};

const writes = {
  // createFile: findOneAndUpdate({file_id}, {...data, expiresAt: now + 1h}, {upsert, new}); a
  // known file_id is overwritten and its TTL re-armed.
  async 'files.create'(args) {
    const data = need(args, 'data');
    const { disable_ttl: disableTtl = false } = args;
    const now = new Date();
    const fileData = { ...data, expiresAt: new Date(now.getTime() + FILE_TTL_MS) };
    if (pyTruthy(disableTtl)) delete fileData.expiresAt;
    const toSet = { ...strictSet(fileData), updatedAt: now };
    const insert = {};
    for (const [key, value] of Object.entries(materialize(DEFAULTS.files, now))) {
      if (!(key in toSet)) insert[key] = value;
    }
    Object.assign(insert, { createdAt: now, __v: 0 });
    return store.findOneAndUpdate(
      'files',
      { file_id: data.file_id ?? null },
      { $set: toSet, $setOnInsert: insert },
      { upsert: true },
    );
  },

  // updateFile({file_id, ...update}): $set the rest, $unset expiresAt (the file is kept).
  async 'files.update'(args) {
    const { file_id: fileId = null, ...rest } = need(args, 'data');
    return store.findOneAndUpdate(
      'files',
      { file_id: fileId },
      { $set: { ...strictSet(rest), updatedAt: new Date() }, $unset: { expiresAt: '' } },
    );
  },

  // updateFileUsage: $inc usage, drop the TTL and temp_file_id.
  async 'files.increment_usage'(args) {
    const { inc = 1 } = args;
    return store.findOneAndUpdate(
      'files',
      { file_id: need(args, 'file_id') },
      { $inc: { usage: inc }, $unset: { expiresAt: '', temp_file_id: '' }, $set: { updatedAt: new Date() } },
    );
  },

  // deleteFiles(file_ids, user): with a user the filter becomes {user} and EVERY file of that
  // user is deleted, whatever the ids (§4.4, §8).
  async 'files.delete_files'(args) {
    const { user_id: userId = null } = args;
    let query = { file_id: { $in: [...(need(args, 'file_ids') || [])] } };
    if (pyTruthy(userId)) query = { user: oid(userId, 'user') };
    return (await (await store.coll('files')).deleteMany(query)).deletedCount;
  },
};

module.exports = { reads, writes, strictSet, strictFilter };
