'use strict';
// Auth: users, sessions, tokens and the balance read (docs/librechat.md §4.1; the oracle is
// migrator/services/auth/legacy.py).
const crypto = require('node:crypto');
const { ObjectId } = require('mongodb');
const store = require('../lib/db');
const {
  oid, castFilter, materialize, DEFAULTS, SCHEMA_FIELDS, TOKEN_QUERY_KEYS, USER_DEFAULT_PROJECTION, USER_HIDDEN,
} = require('../lib/mongoose');
const { need, pyTruthy, entries } = require('../lib/values');

// The JWT strategy also drops __v.
const USER_AUTH_PROJECTION = { ...USER_DEFAULT_PROJECTION, __v: 0 };
const BALANCE_FIELDS = [
  'tokenCredits', 'autoRefillEnabled', 'refillIntervalValue', 'refillIntervalUnit', 'lastRefill',
  'refillAmount',
];
const REFILL_FIELDS = ['refillIntervalValue', 'refillIntervalUnit', 'lastRefill', 'refillAmount'];
const SESSION_DAYS = 7;

function withoutHidden(user) {
  const out = { ...user };
  for (const key of USER_HIDDEN) delete out[key];
  return out;
}

const reads = {
  // JWT strategy: the user of every authenticated request.
  async 'auth.get_user_by_id'(args) {
    return store.findOne('users', { _id: oid(need(args, 'user_id')) }, USER_AUTH_PROJECTION);
  },

  // Local login / register: findUser({email: input.trim()}), lowercased by the schema.
  async 'auth.find_user_by_email'(args) {
    const email = need(args, 'email', 'string').trim().toLowerCase();
    return store.findOne('users', { email }, USER_DEFAULT_PROJECTION);
  },

  // OpenID login: by openidId, then by email.
  async 'auth.find_user_for_openid'(args) {
    const openidId = need(args, 'openid_id');
    const email = need(args, 'email', 'string').trim().toLowerCase();
    const found = await store.findOne('users', { openidId }, USER_DEFAULT_PROJECTION);
    return found ?? store.findOne('users', { email }, USER_DEFAULT_PROJECTION);
  },

  // Register: the first user becomes ADMIN.
  async 'auth.count_users'() {
    return store.count('users', {});
  },

  // Refresh: the live session for this refresh-token hash and user.
  async 'auth.find_session'(args) {
    const refreshTokenHash = need(args, 'refresh_token_hash');
    const user = oid(need(args, 'user_id'), 'user');
    const now = need(args, 'now', 'date');
    return store.findOne('sessions', { refreshTokenHash, user, expiration: { $gt: now } });
  },

  async 'auth.count_active_sessions'(args) {
    const user = oid(need(args, 'user_id'), 'user');
    return store.count('sessions', { user, expiration: { $gt: need(args, 'now', 'date') } });
  },

  // data-schemas `findToken` (B): Token.findOne({$and: conditions}).lean(), a condition per
  // truthy key of TOKEN_QUERY_KEYS. With none, Mongoose's cast deletes the empty `$and`
  // (lib/cast.js lines 87-90), so the filter is {}: the first token.
  async 'auth.find_token'(args) {
    const parts = TOKEN_QUERY_KEYS.filter((key) => pyTruthy(args[key])).map((key) => ({ [key]: args[key] }));
    return store.findOne('tokens', castFilter('tokens', { $and: parts }));
  },

  // GET /api/balance: refill fields are dropped when auto-refill is off; null is a 404.
  async 'auth.get_balance'(args) {
    const user = oid(need(args, 'user_id'), 'user');
    const projection = { _id: 0 };
    for (const f of BALANCE_FIELDS) projection[f] = 1;
    const doc = await store.findOne('balances', { user }, projection);
    if (doc !== null && !pyTruthy(doc.autoRefillEnabled)) {
      for (const f of REFILL_FIELDS) delete doc[f];
    }
    return doc;
  },
};

// A stand-in for sha256(refresh JWT {id, sessionId}), as the oracle computes it.
function refreshHash(userId, sessionId) {
  return crypto.createHash('sha256').update(`${userId}.${sessionId.toHexString()}`).digest('hex');
}

const writes = {
  // Register / social sign-up: createUser (save with defaults) + the start balance upsert.
  async 'auth.create_user'(args) {
    const data = need(args, 'data');
    const startBalance = args.start_balance ?? null;
    const now = new Date();
    const doc = materialize(DEFAULTS.users, now);
    for (const [key, value] of entries(data)) {
      if (!SCHEMA_FIELDS.users.has(key)) continue;
      doc[key] = (key === 'email' || key === 'username') && typeof value === 'string' ? value.toLowerCase() : value;
    }
    Object.assign(doc, { _id: new ObjectId(), createdAt: now, updatedAt: now, __v: 0 });
    await (await store.coll('users')).insertOne(doc);
    if (pyTruthy(startBalance)) {
      const { tokenCredits, ...defaults } = materialize(DEFAULTS.balances, now);
      await store.findOneAndUpdate(
        'balances',
        { user: doc._id },
        { $inc: { tokenCredits: startBalance }, $setOnInsert: { ...defaults, __v: 0 } },
        { upsert: true },
      );
    }
    return withoutHidden(doc);
  },

  // updateUser: $set the data, unset the TTL, bump updatedAt; the new document.
  async 'auth.update_user'(args) {
    const id = oid(need(args, 'user_id'));
    const allowed = {};
    for (const [key, value] of entries(need(args, 'data'))) {
      if (SCHEMA_FIELDS.users.has(key) && key !== '_id' && key !== 'createdAt') allowed[key] = value;
    }
    return store.findOneAndUpdate(
      'users',
      { _id: id },
      { $set: { ...allowed, updatedAt: new Date() }, $unset: { expiresAt: '' } },
      { projection: USER_DEFAULT_PROJECTION },
    );
  },

  // Login setAuthTokens: one insert, expiration now + 7 days, the token hash.
  async 'auth.create_session'(args) {
    const userId = need(args, 'user_id');
    const sessionId = new ObjectId();
    const doc = {
      _id: sessionId,
      user: oid(userId, 'user'),
      expiration: new Date(Date.now() + SESSION_DAYS * 86400000),
      refreshTokenHash: refreshHash(userId, sessionId),
      __v: 0,
    };
    await (await store.coll('sessions')).insertOne(doc);
    return doc;
  },

  // Refresh: findOne({_id, expiration > now}) then save the new hash (no sliding expiry).
  async 'auth.refresh_session'(args) {
    const refreshTokenHash = need(args, 'refresh_token_hash');
    const filter = { _id: oid(need(args, 'session_id')), expiration: { $gt: need(args, 'now', 'date') } };
    const found = await store.findOne('sessions', filter);
    if (found === null) return null;
    await (await store.coll('sessions')).updateOne({ _id: found._id }, { $set: { refreshTokenHash } });
    return { ...found, refreshTokenHash };
  },

  // Logout: deleteOne({refreshTokenHash}).
  async 'auth.delete_session'(args) {
    const sessions = await store.coll('sessions');
    return (await sessions.deleteOne({ refreshTokenHash: need(args, 'refresh_token_hash') })).deletedCount;
  },

  // Log out everywhere else: deleteMany({user, _id: {$ne: current}}).
  async 'auth.delete_other_sessions'(args) {
    const filter = { user: oid(need(args, 'user_id'), 'user'), _id: { $ne: oid(need(args, 'session_id')) } };
    return (await (await store.coll('sessions')).deleteMany(filter)).deletedCount;
  },
};

module.exports = { reads, writes };
