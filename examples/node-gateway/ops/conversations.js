'use strict';
// Conversations: sidebar pages, one conversation, its files, counts, save / archive / rename /
// delete / bulk save (docs/librechat.md §4.2; the oracle is
// migrator/services/conversations/legacy.py, whose docstrings list the LibreChat B quirks kept here).
const store = require('../lib/db');
const { GatewayError, isDriverError } = require('../lib/errors');
const { stringOwner, jsDate, iso, strictSet, onInsert, castFilter, SCHEMA_FIELDS } = require('../lib/mongoose');
const { tempExpiry, bulkResult, emptyBulkResult } = require('../lib/chat');
const { need, plain, pyTruthy, entries } = require('../lib/values');

const PAGE_LIMIT = 25; // the client never sends `limit`
const LIST_PROJECTION = {
  conversationId: 1, endpoint: 1, title: 1, createdAt: 1, updatedAt: 1, user: 1, model: 1,
  agent_id: 1, assistant_id: 1, spec: 1, iconURL: 1,
};
// What B's catch blocks answer instead of throwing.
const LIST_ERROR = { message: 'Error getting conversations' };
const GET_ERROR = { message: 'Error getting single conversation' };
const SAVE_ERROR = { message: 'Error saving conversation' };

// A cast failure or a driver error: what B's try/catch blocks turn into an answer.
function caught(err) {
  return (err instanceof GatewayError && err.type === 'CastError') || isDriverError(err);
}

const reads = {
  // GET /api/convos: getConvosByCursor (popped-row cursor, strict $lt, asc paging broken).
  async 'conversations.list_page'(args) {
    const { cursor = null, is_archived = false, tags = null, order = 'desc' } = args;
    const limit = plain(args.limit ?? PAGE_LIMIT);
    const filters = [{ user: stringOwner(need(args, 'user')) }];
    if (pyTruthy(is_archived)) filters.push({ isArchived: true });
    else filters.push({ $or: [{ isArchived: false }, { isArchived: { $exists: false } }] });
    if (Array.isArray(tags) && tags.length) filters.push({ tags: { $in: tags } });
    filters.push({ $or: [{ expiredAt: null }, { expiredAt: { $exists: false } }] });
    try {
      if (pyTruthy(cursor)) filters.push({ updatedAt: { $lt: jsDate(cursor, 'updatedAt') } });
      const query = filters.length === 1 ? filters[0] : { $and: filters };
      const rows = await store.find('conversations', query, {
        projection: LIST_PROJECTION,
        sort: { updatedAt: order === 'asc' ? 1 : -1 },
        limit: limit + 1,
      });
      let nextCursor = null;
      if (rows.length > limit) {
        const updated = rows.pop().updatedAt;
        if (!(updated instanceof Date)) return { ...LIST_ERROR }; // .toISOString of a non-Date
        nextCursor = iso(updated);
      }
      return { conversations: rows, nextCursor };
    } catch (err) {
      if (caught(err)) return { ...LIST_ERROR };
      throw err;
    }
  },

  // getConvo(user, conversationId): the whole document.
  async 'conversations.get'(args) {
    const filter = { user: stringOwner(need(args, 'user')), conversationId: need(args, 'conversation_id') };
    try {
      return await store.findOne('conversations', filter);
    } catch (err) {
      if (isDriverError(err)) return { ...GET_ERROR };
      throw err;
    }
  },

  // searchConversation: the access check's owner lookup.
  async 'conversations.find_owner'(args) {
    const filter = { conversationId: need(args, 'conversation_id') };
    return store.findOne('conversations', filter, { conversationId: 1, user: 1 });
  },

  // getConvoFiles: `files` or [] — no user filter (B).
  async 'conversations.files'(args) {
    const found = await store.findOne('conversations', { conversationId: need(args, 'conversation_id') }, { files: 1 });
    return (found && found.files) ?? [];
  },

  // user-stats: countDocuments({user: user._id}), the ObjectId cast to the String path's hex.
  async 'conversations.count_by_user'(args) {
    return store.count('conversations', { user: stringOwner(need(args, 'user')) });
  },
};

// saveConvo(req, {conversationId, newConversationId, ...convo}, {unsetFields}) (B): the message
// ids with no user filter, the strict upsert keyed by {conversationId, user}, expiredAt null
// unless temporary; any error answered as SAVE_ERROR.
async function save({ user, conversation, is_temporary: isTemporary = false, unset_fields: unsetFields = null }) {
  const payload = { ...conversation };
  const conversationId = payload.conversationId ?? null;
  const newId = payload.newConversationId ?? null;
  delete payload.conversationId;
  delete payload.newConversationId;
  const owner = stringOwner(user);
  const now = new Date();
  try {
    const found = await store.find('messages', { conversationId }, { projection: { _id: 1, messageId: 1 }, sort: { createdAt: 1 } });
    const update = { ...payload, messages: found.map((m) => m._id) };
    update.user = owner;
    if (pyTruthy(newId)) update.conversationId = newId;
    update.expiredAt = pyTruthy(isTemporary) ? tempExpiry(now) : null;
    const toSet = strictSet('conversations', update);
    toSet.updatedAt = now;
    const ops = { $set: toSet };
    const unset = {};
    for (const [key, value] of entries(unsetFields)) {
      if (SCHEMA_FIELDS.conversations.has(key)) unset[key] = value;
    }
    if (Object.keys(unset).length) ops.$unset = unset;
    ops.$setOnInsert = onInsert('conversations', new Set([...Object.keys(toSet), ...Object.keys(unset)]), now);
    return await store.findOneAndUpdate('conversations', { conversationId, user: owner }, ops, { upsert: true });
  } catch (err) {
    if (caught(err)) return { ...SAVE_ERROR };
    throw err;
  }
}

const writes = {
  async 'conversations.save'(args) {
    return save({ ...args, user: need(args, 'user'), conversation: need(args, 'conversation') });
  },

  // POST /api/convos/update {conversationId, isArchived} => saveConvo (upserts unknown ids,
  // makes temporary chats permanent).
  async 'conversations.archive'(args) {
    const { is_archived: isArchived = true } = args;
    const conversation = { conversationId: need(args, 'conversation_id'), isArchived };
    return save({ user: need(args, 'user'), conversation });
  },

  // POST /api/convos/update {conversationId, title} => saveConvo; the title stored as sent.
  async 'conversations.rename'(args) {
    const conversation = { conversationId: need(args, 'conversation_id'), title: need(args, 'title') };
    return save({ user: need(args, 'user'), conversation });
  },

  // deleteConvos(user, filter): `{...filter, user}` through Mongoose's query cast (unknown keys
  // dropped by strictQuery, values cast) => the ids, none => throws, deleteMany, then the
  // messages by conversationId with no user filter (B).
  async 'conversations.delete'(args) {
    const filter = need(args, 'filter');
    const user = stringOwner(need(args, 'user'));
    return deleteConvos(castFilter('conversations', { ...filter, user }));
  },

  // bulkSaveConvos (import, fork, duplicate): an upsert per conversation, timestamps off.
  async 'conversations.bulk_save'(args) {
    const conversations = need(args, 'conversations');
    if (!pyTruthy(conversations)) return emptyBulkResult();
    const now = new Date();
    try {
      const requests = conversations.map((convo) => {
        const toSet = strictSet('conversations', convo);
        if ('user' in toSet) toSet.user = stringOwner(toSet.user);
        const insert = onInsert('conversations', new Set(Object.keys(toSet)), now, { timestamps: false });
        const filter = { conversationId: convo.conversationId ?? null, user: stringOwner(convo.user ?? null) };
        const update = { $setOnInsert: insert, ...(Object.keys(toSet).length ? { $set: toSet } : {}) };
        return { updateOne: { filter, update, upsert: true } };
      });
      return bulkResult(await (await store.coll('conversations')).bulkWrite(requests));
    } catch (err) {
      if (caught(err)) throw new GatewayError('BulkSaveFailed', 'Failed to save conversations in bulk.');
      throw err;
    }
  },
};

async function deleteConvos(query) {
  const found = await store.find('conversations', query, { projection: { conversationId: 1 } });
  const ids = found.map((c) => c.conversationId ?? null);
  if (!ids.length) throw new GatewayError('ConversationNotFound', 'Conversation not found or already deleted.');
  const convos = await (await store.coll('conversations')).deleteMany(query);
  const messages = await (await store.coll('messages')).deleteMany({ conversationId: { $in: ids } });
  return {
    acknowledged: convos.acknowledged,
    deletedCount: convos.deletedCount,
    messages: { acknowledged: messages.acknowledged, deletedCount: messages.deletedCount },
  };
}

module.exports = { reads, writes, deleteConvos };
