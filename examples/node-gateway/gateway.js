#!/usr/bin/env node
// Reference implementation of migrator's external-gateway protocol (docs/external-gateway.md)
// in Node.js with the official `mongodb` driver.
//
//   stdin : one JSON request per line   {"id": 1, "op": "auth.get_user_by_id", "args": {...}}
//   stdout: one JSON response per line  {"id": 1, "value": ...}
//                                    or {"id": 1, "error": {"type": "CastError", "message": "..."}}
//
// Every value is MongoDB Extended JSON v2, canonical mode, so int32 / int64 / double /
// Decimal128 / ObjectId / Date / Binary / RegExp keep their BSON types across the pipe.
// Documents are read with `promoteValues: false` for the same reason: a stored double 1.0 must
// come back as a double, not as the JS number 1 (which canonical EJSON would write as an int32).
//
// Environment:
//   MONGO_URI             connection string (LibreChat's own variable name)
//   MIGRATOR_GATEWAY_DB   database name (default: the URI's path, else "LibreChat")
//   MIGRATOR_RECORD       optional file: append every operation received as a replay line
//                         {"op", "args", "at"} (args in canonical EJSON, `at` ISO-8601 UTC)
//
// To wrap LibreChat's TypeScript db-gateway, keep this file's protocol loop and replace the
// bodies in OPS with calls to its repositories (see docs/external-gateway.md).
'use strict';

const fs = require('node:fs');
const readline = require('node:readline');
const { MongoClient, ObjectId, BSON } = require('mongodb');

const { EJSON } = BSON;
const NAME = 'migrator-node-gateway';
const VERSION = require('./package.json').version;
const EJSON_OPTIONS = { relaxed: false };
// Read documents as stored: wrapper types for int32/int64/double, BSONRegExp for regexes,
// Binary for binary data.
const READ_OPTIONS = { promoteValues: false, promoteLongs: false, bsonRegExp: true };

// --- errors ------------------------------------------------------------------------------------

// Error `type` names follow the vocabulary of migrator's Python legacy path, so that an error on
// both sides compares equal (docs/external-gateway.md, "Errors").
class GatewayError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// Mongoose's CastError message for an ObjectId path.
function castError(path, value) {
  return new GatewayError('CastError', `Cast to ObjectId failed for value "${value}" at path "${path}"`);
}

// Driver error classes → the pymongo exception a Python gateway would raise.
const DRIVER_ERROR_TYPES = {
  MongoServerError: 'OperationFailure',
  MongoServerSelectionError: 'ServerSelectionTimeoutError',
  MongoNetworkError: 'AutoReconnect',
  MongoNetworkTimeoutError: 'NetworkTimeout',
  MongoParseError: 'ConfigurationError',
  MongoInvalidArgumentError: 'InvalidOperation',
  BSONError: 'InvalidBSON',
};

function errorType(err) {
  if (err instanceof GatewayError) return err.type;
  if (err && err.name === 'MongoServerError' && err.code === 11000) return 'DuplicateKeyError';
  if (err && DRIVER_ERROR_TYPES[err.name]) return DRIVER_ERROR_TYPES[err.name];
  return (err && err.name) || 'Error';
}

// --- Mongoose behaviours the operations need (librechat-model.md §1) -------------------------

const HEX24 = /^[0-9a-fA-F]{24}$/;

// Mongoose's cast of a string on an ObjectId path: a 24-hex string becomes an ObjectId, another
// string throws CastError; anything else (an ObjectId already) passes unchanged.
function oid(value, path = '_id') {
  if (typeof value === 'string') {
    if (!HEX24.test(value)) throw castError(path, value);
    return ObjectId.createFromHexString(value);
  }
  return value;
}

// Truthiness of a stored value read with promoteValues:false (wrappers are objects, so unwrap).
function truthy(value) {
  if (value && typeof value === 'object' && typeof value.valueOf === 'function') {
    const v = value.valueOf();
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return Boolean(v);
  }
  return Boolean(value);
}

function requireArg(args, name, type) {
  if (!(name in args)) throw new GatewayError('TypeError', `missing required argument '${name}'`);
  const value = args[name];
  if (type === 'string' && typeof value !== 'string') {
    throw new GatewayError('TypeError', `argument '${name}' must be a string`);
  }
  if (type === 'date' && !(value instanceof Date)) {
    throw new GatewayError('TypeError', `argument '${name}' must be a date ($date)`);
  }
  return value;
}

// users: select:false paths (password, totpSecret, backupCodes); the JWT path also drops __v.
const USER_DEFAULT_PROJECTION = { password: 0, totpSecret: 0, backupCodes: 0 };
const USER_AUTH_PROJECTION = { ...USER_DEFAULT_PROJECTION, __v: 0 };
const BALANCE_FIELDS = [
  'tokenCredits',
  'autoRefillEnabled',
  'refillIntervalValue',
  'refillIntervalUnit',
  'lastRefill',
  'refillAmount',
];
const REFILL_FIELDS = ['refillIntervalValue', 'refillIntervalUnit', 'lastRefill', 'refillAmount'];
const TOKEN_KEYS = ['userId', 'token', 'email', 'type', 'identifier'];

// --- the database --------------------------------------------------------------------------

let client = null;
let database = null;

function dbName() {
  if (process.env.MIGRATOR_GATEWAY_DB) return process.env.MIGRATOR_GATEWAY_DB;
  const match = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(process.env.MONGO_URI || '');
  return match ? decodeURIComponent(match[1]) : 'LibreChat';
}

async function db() {
  if (database) return database;
  const uri = process.env.MONGO_URI;
  if (!uri) throw new GatewayError('ConfigurationError', 'MONGO_URI is not set');
  client = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  database = client.db(dbName());
  return database;
}

async function findOne(collection, filter, projection) {
  const options = { ...READ_OPTIONS };
  if (projection) options.projection = projection;
  return (await db()).collection(collection).findOne(filter, options);
}

async function count(collection, filter) {
  return (await db()).collection(collection).countDocuments(filter);
}

// --- operations: one per migrator catalog name, args as the Python functions' keywords -----

const OPS = {
  // JWT strategy: the user of every authenticated request.
  async 'auth.get_user_by_id'(args) {
    const id = oid(requireArg(args, 'user_id'));
    return findOne('users', { _id: id }, USER_AUTH_PROJECTION);
  },

  // Local login / register: findUser({email: input.trim()}), lowercased by the schema.
  async 'auth.find_user_by_email'(args) {
    const email = requireArg(args, 'email', 'string').trim().toLowerCase();
    return findOne('users', { email }, USER_DEFAULT_PROJECTION);
  },

  // OpenID login (B): by openidId, then by email.
  async 'auth.find_user_for_openid'(args) {
    const openidId = requireArg(args, 'openid_id');
    const email = requireArg(args, 'email', 'string').trim().toLowerCase();
    const found = await findOne('users', { openidId }, USER_DEFAULT_PROJECTION);
    return found ?? findOne('users', { email }, USER_DEFAULT_PROJECTION);
  },

  // Register: the first user becomes ADMIN (countDocuments({})).
  async 'auth.count_users'() {
    return count('users', {});
  },

  // Refresh: the live session for this refresh-token hash and user.
  async 'auth.find_session'(args) {
    const refreshTokenHash = requireArg(args, 'refresh_token_hash');
    const user = oid(requireArg(args, 'user_id'), 'user');
    const now = requireArg(args, 'now', 'date');
    return findOne('sessions', { refreshTokenHash, user, expiration: { $gt: now } });
  },

  async 'auth.count_active_sessions'(args) {
    const user = oid(requireArg(args, 'user_id'), 'user');
    const now = requireArg(args, 'now', 'date');
    return count('sessions', { user, expiration: { $gt: now } });
  },

  // Token lookup: the provided keys AND-ed; none at all is a server error ($and must be
  // non-empty), as in LibreChat.
  async 'auth.find_token'(args) {
    const parts = [];
    for (const key of TOKEN_KEYS) {
      if (args[key] !== undefined && args[key] !== null) {
        parts.push({ [key]: key === 'userId' ? oid(args[key], 'userId') : args[key] });
      }
    }
    return findOne('tokens', { $and: parts });
  },

  // GET /api/balance: refill fields are dropped when auto-refill is off; null is a 404.
  async 'auth.get_balance'(args) {
    const user = oid(requireArg(args, 'user_id'), 'user');
    const projection = { _id: 0 };
    for (const f of BALANCE_FIELDS) projection[f] = 1;
    const doc = await findOne('balances', { user }, projection);
    if (doc !== null && !truthy(doc.autoRefillEnabled)) {
      for (const f of REFILL_FIELDS) delete doc[f];
    }
    return doc;
  },

  // Protocol tests: returns its args unchanged (round-trip of every BSON type).
  async $echo(args) {
    return args;
  },

  // Protocol tests: answers after `ms` milliseconds (a call that hangs).
  async $sleep(args) {
    const ms = Number(truthy(args.ms) ? args.ms.valueOf() : 0);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return null;
  },

  // Protocol tests: the process dies without answering.
  async $exit(args) {
    const code = args.code === undefined ? 1 : Number(args.code.valueOf());
    process.stderr.write(`${NAME}: exiting with code ${code} as asked\n`);
    process.exit(code);
  },
};

function hello() {
  return {
    name: NAME,
    version: VERSION,
    protocol: 1,
    driver: `mongodb ${require('mongodb/package.json').version}`,
    ops: Object.keys(OPS),
  };
}

// --- record mode -------------------------------------------------------------------------------

const RECORD = process.env.MIGRATOR_RECORD || '';

function record(op, rawArgs) {
  if (!RECORD || op.startsWith('$')) return;
  // rawArgs is the request's own canonical EJSON, so the replay file keeps every type.
  const line = `{"op":${JSON.stringify(op)},"args":${JSON.stringify(rawArgs ?? {})},"at":${JSON.stringify(new Date().toISOString())}}\n`;
  fs.appendFileSync(RECORD, line);
}

// --- the protocol loop -------------------------------------------------------------------------

// The envelope is plain JSON (`id` stays a JSON number); only `value` is canonical EJSON.
function sendValue(id, value) {
  const body = EJSON.stringify(value === undefined ? null : value, EJSON_OPTIONS);
  process.stdout.write(`{"id":${JSON.stringify(id)},"value":${body}}\n`);
}

function sendError(id, type, message) {
  process.stdout.write(`${JSON.stringify({ id, error: { type, message } })}\n`);
}

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    sendError(null, 'BadRequest', `request is not JSON: ${err.message}`);
    return;
  }
  const { id = null, op } = request;
  try {
    if (op === '$hello') {
      sendValue(id, hello());
      return;
    }
    const fn = typeof op === 'string' && Object.prototype.hasOwnProperty.call(OPS, op) ? OPS[op] : null;
    if (!fn) throw new GatewayError('UnknownOperation', `unknown operation ${JSON.stringify(op)}`);
    record(op, request.args);
    const args = EJSON.deserialize(request.args ?? {}, EJSON_OPTIONS);
    const value = await fn(args);
    sendValue(id, value);
  } catch (err) {
    sendError(id, errorType(err), String((err && err.message) || err));
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Requests are answered one at a time, in order (the client sends one and waits).
  for await (const line of lines) {
    if (line.trim()) await handle(line);
  }
  if (client) await client.close();
}

main().catch((err) => {
  process.stderr.write(`${NAME}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
