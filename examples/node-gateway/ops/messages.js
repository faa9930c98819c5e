'use strict';
// Messages: load, page, count, save, edit, delete-since, bulk save (docs/librechat.md §4.3; the
// oracle is migrator/services/messages/legacy.py, whose docstrings list the LibreChat B quirks kept).
const store = require('../lib/db');
const { errorType } = require('../lib/errors');
const { stringOwner, jsDate, iso, strictSet, onInsert, DATE_FIELDS, MESSAGE_HIDDEN } = require('../lib/mongoose');
const { tempExpiry, bulkResult, emptyBulkResult } = require('../lib/chat');
const { need, plain, isNumeric, pyTruthy } = require('../lib/values');

const PAGE_SIZE = 25; // GET /api/messages: parseInt(pageSize) || 25
const SORT_FIELDS = ['endpoint', 'createdAt', 'updatedAt']; // the route's whitelist for sortBy
// GET /api/messages/:conversationId selects '-_id -__v -user'; _meiliIndex stays hidden.
const LOAD_PROJECTION = { _id: 0, __v: 0, user: 0, ...MESSAGE_HIDDEN };
// zod 3 z.string().uuid() (saveMessage's idSchema): any version, either case, nil allowed.
const ZOD_UUID = /^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$/;
// A string JS's Number() reads as a number (what isNaN checks).
const JS_NUMBER = /^(?:[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)$/;

// JS global isNaN(value) for the values a message's tokenCount can hold.
function jsIsNaN(value) {
  if (typeof value === 'boolean') return false;
  if (isNumeric(value)) return Number.isNaN(plain(value));
  if (typeof value === 'string') {
    const text = value.trim();
    return text !== '' && !JS_NUMBER.test(text);
  }
  return true;
}

// parseInt(pageSize, 10) || 25: the leading integer, NaN or 0 => 25.
function pageSize(raw) {
  const match = raw === null || raw === undefined ? null : /^\s*([+-]?\d+)/.exec(String(plain(raw)));
  return (match ? Number(match[1]) : 0) || PAGE_SIZE;
}

const reads = {
  // Load a conversation: getMessages({conversationId}, '-_id -__v -user'), createdAt asc, no
  // user filter (B).
  async 'messages.by_conversation'(args) {
    const filter = { conversationId: need(args, 'conversation_id') };
    return store.find('messages', filter, { projection: LOAD_PROJECTION, sort: { createdAt: 1 } });
  },

  // GET /api/messages?conversationId=…: popped-row cursor with a strict $lt/$gt (B).
  async 'messages.list_page'(args) {
    const { cursor = null, sort_by: sortBy = 'createdAt', sort_direction: direction = 'desc' } = args;
    const size = pageSize(args.page_size ?? null);
    const field = SORT_FIELDS.includes(sortBy) ? sortBy : 'createdAt';
    const order = direction === 'asc' ? 1 : -1;
    const query = { conversationId: need(args, 'conversation_id'), user: stringOwner(need(args, 'user')) };
    if (pyTruthy(cursor)) {
      const value = DATE_FIELDS.messages.has(field) ? jsDate(cursor, field) : cursor;
      query[field] = order === 1 ? { $gt: value } : { $lt: value };
    }
    const rows = await store.find('messages', query, { projection: MESSAGE_HIDDEN, sort: { [field]: order }, limit: size + 1 });
    let nextCursor = null;
    if (rows.length > size) {
      const popped = rows.pop()[field] ?? null; // undefined when the row lacks the field
      nextCursor = popped instanceof Date ? iso(popped) : popped;
    }
    return { messages: rows, nextCursor };
  },

  // GET /api/messages?conversationId&messageId: one message as a one-row page.
  async 'messages.get_one'(args) {
    const filter = {
      conversationId: need(args, 'conversation_id'),
      messageId: need(args, 'message_id'),
      user: stringOwner(need(args, 'user')),
    };
    const found = await store.findOne('messages', filter, MESSAGE_HIDDEN);
    return { messages: found ? [found] : [], nextCursor: null };
  },

  async 'messages.count_by_conversation'(args) {
    return store.count('messages', { conversationId: need(args, 'conversation_id') });
  },

  async 'messages.count_by_user'(args) {
    return store.count('messages', { user: stringOwner(need(args, 'user')) });
  },
};

const writes = {
  // saveMessage(req, params) (B): a non-UUID conversationId is skipped; the params as a strict
  // $set upsert keyed by {messageId, user}; E11000 (the id is another user's) => the caller's own
  // message, else the params echoed back.
  async 'messages.save'(args) {
    const message = need(args, 'message');
    const { is_temporary: isTemporary = false } = args;
    const conversationId = message.conversationId;
    if (typeof conversationId !== 'string' || !ZOD_UUID.test(conversationId)) return null;
    const now = new Date();
    const owner = stringOwner(need(args, 'user'));
    const update = { ...message, user: owner };
    update.messageId = pyTruthy(message.newMessageId) ? message.newMessageId : message.messageId ?? null;
    update.expiredAt = pyTruthy(isTemporary) ? tempExpiry(now) : null;
    if (update.tokenCount !== undefined && update.tokenCount !== null && jsIsNaN(update.tokenCount)) {
      update.tokenCount = 0;
    }
    const toSet = strictSet('messages', update);
    toSet.updatedAt = now;
    const query = { messageId: message.messageId ?? null, user: owner };
    const ops = { $set: toSet, $setOnInsert: onInsert('messages', new Set(Object.keys(toSet)), now) };
    try {
      return await store.findOneAndUpdate('messages', query, ops, { projection: MESSAGE_HIDDEN, upsert: true });
    } catch (err) {
      if (errorType(err) !== 'DuplicateKeyError') throw err;
      const existing = await store.findOne('messages', query, MESSAGE_HIDDEN);
      if (existing !== null) return existing;
      return { ...message, messageId: message.messageId ?? null, user: owner };
    }
  },

  // updateMessageText: updateOne({messageId, user}, {text}) + updatedAt; the driver's counts.
  async 'messages.update_text'(args) {
    const filter = { messageId: need(args, 'message_id'), user: stringOwner(need(args, 'user')) };
    const result = await (await store.coll('messages')).updateOne(
      filter,
      { $set: { text: need(args, 'text'), updatedAt: new Date() } },
    );
    return { matchedCount: result.matchedCount, modifiedCount: result.modifiedCount };
  },

  // deleteMessagesSince (edit / regenerate): the caller's conversationId, the message's
  // createdAt cast by the Date path ($gt null matches nothing); unknown message => undefined.
  async 'messages.delete_since'(args) {
    const owner = stringOwner(need(args, 'user'));
    const conversationId = need(args, 'conversation_id');
    const message = await store.findOne('messages', { messageId: need(args, 'message_id'), user: owner });
    if (message === null) return null;
    const since = jsDate(message.createdAt ?? null, 'createdAt');
    const result = await (await store.coll('messages')).deleteMany({ conversationId, user: owner, createdAt: { $gt: since } });
    return { acknowledged: result.acknowledged, deletedCount: result.deletedCount };
  },

  // bulkSaveMessages (import, fork, duplicate): an upsert per message keyed by messageId only,
  // timestamps unless overrideTimestamp.
  async 'messages.bulk_save'(args) {
    const messages = need(args, 'messages');
    const { override_timestamp: override = false } = args;
    if (!pyTruthy(messages)) return emptyBulkResult();
    const now = new Date();
    const requests = messages.map((msg) => {
      const toSet = strictSet('messages', msg);
      if ('user' in toSet) toSet.user = stringOwner(toSet.user);
      if (!pyTruthy(override)) toSet.updatedAt = now;
      const insert = onInsert('messages', new Set(Object.keys(toSet)), now, { timestamps: !pyTruthy(override) });
      const update = { $setOnInsert: insert, ...(Object.keys(toSet).length ? { $set: toSet } : {}) };
      return { updateOne: { filter: { messageId: msg.messageId ?? null }, update, upsert: true } };
    });
    return bulkResult(await (await store.coll('messages')).bulkWrite(requests));
  },
};

module.exports = { reads, writes };
