#!/usr/bin/env node
// migrator's adapter for a LibreChat checkout's own db-gateway (protocol v2, docs/external-gateway.md).
//
// Loads the checkout's gateway, unmodified, from the bundle `migrator.librechat.prepare` built
// (MIGRATOR_LIBRECHAT_BUNDLE), and answers each catalog operation the way the checkout's
// api/models/*Operations.js do with USE_DB_GATEWAY=true (routes.js), or with `"branch": "legacy"`
// the way its old Mongoose branch does.
//
//   node adapter.js              the protocol on stdin/stdout (MONGO_URI, MIGRATOR_GATEWAY_DB)
//   node adapter.js --describe   repositories and routing as JSON, without a database
'use strict';

const readline = require('node:readline');

// stdout belongs to the protocol: everything the checkout's code prints goes to stderr.
const writeProtocol = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
for (const level of ['log', 'info', 'debug', 'warn']) console[level] = console.error;

const { ROUTES } = require('./routes');
const { routingTable } = require('./source');

const NAME = 'migrator-librechat';
const VERSION = require('./package.json').version;
const ROOT = process.env.MIGRATOR_LIBRECHAT_ROOT || '';
const DEFAULT_BRANCH = process.env.MIGRATOR_LIBRECHAT_BRANCH || 'gateway';
delete process.env.MEILI_HOST; // no search index: LibreChat's Meili plugin stays off
delete process.env.MEILI_MASTER_KEY;

const lib = require(process.env.MIGRATOR_LIBRECHAT_BUNDLE);
const mongoose = lib.mongoose;
const { BSON } = mongoose.mongo;
const { EJSON } = BSON;
const { DbGatewayFactory } = lib.gateway;

class GatewayError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// --- the gateway, connected lazily as LibreChat's api/db/gateway.js does -------------------------

function dbName() {
  if (process.env.MIGRATOR_GATEWAY_DB) return process.env.MIGRATOR_GATEWAY_DB;
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(process.env.MONGO_URI || '');
  return m ? decodeURIComponent(m[1]) : 'LibreChat';
}

let connecting = null;
function gateway() {
  if (!connecting) {
    connecting = (async () => {
      if (!process.env.MONGO_URI) throw new GatewayError('ConfigurationError', 'MONGO_URI is not set');
      const gw = DbGatewayFactory.create('mongodb');
      // LibreChat's options (bufferCommands off) plus: the tool's database, no index builds.
      await gw.connect({
        uri: process.env.MONGO_URI,
        options: { bufferCommands: false, dbName: dbName(), autoIndex: false, autoCreate: false,
          serverSelectionTimeoutMS: 10000 },
      });
      return gw;
    })();
    connecting.catch(() => { connecting = null; });
  }
  return connecting;
}

// --- values ---------------------------------------------------------------------------------------

// Plain objects with BSON values: hydrated documents via toObject() (no virtuals), Maps as objects.
function plain(value) {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value !== 'object') return value;
  if (typeof value.toObject === 'function' && value.$__ !== undefined) return plain(value.toObject());
  if (value instanceof Map) return plain(Object.fromEntries(value));
  if (Array.isArray(value)) return value.map(plain);
  if (value._bsontype || value instanceof Date || value instanceof RegExp) return value;
  if (Buffer.isBuffer(value)) return new BSON.Binary(value);
  const out = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
  return out;
}

// A bulkWrite result as the driver reports it.
function bulkResult(r) {
  if (!r || typeof r !== 'object') return r;
  const pick = ['insertedCount', 'matchedCount', 'modifiedCount', 'deletedCount', 'upsertedCount'];
  const out = { ok: r.ok ?? 1 };
  for (const k of pick) if (k in r) out[k] = r[k];
  if (r.upsertedIds) out.upsertedIds = plain(r.upsertedIds);
  return out;
}

// getToolFilesByIds (B and the fork): the filter from the resource set, then getFiles.
async function toolFiles(a, getFiles) {
  const set = new Set(a.tool_resources || []);
  if (!a.file_ids || !a.file_ids.length || !set.size) return [];
  try {
    const filter = { file_id: { $in: a.file_ids }, $or: [] };
    if (set.has('ocr') || set.has('context')) filter.$or.push({ text: { $exists: true, $ne: null }, context: 'agents' });
    if (set.has('file_search')) filter.$or.push({ embedded: true });
    if (set.has('execute_code')) filter.$or.push({ 'metadata.fileIdentifier': { $exists: true } });
    return await getFiles(filter);
  } catch (err) {
    throw new GatewayError('RuntimeError', 'Error retrieving tool files');
  }
}

const helpers = {
  async repo(name) { return (await gateway()).getRepository(name); },
  get models() { return mongoose.models; },
  plain, bulkResult, toolFiles,
  log: (line) => process.stderr.write(`${line}\n`),
};

// --- errors: the Python legacy path's vocabulary (docs/external-gateway.md, "Errors") -----------

const DRIVER_ERROR_TYPES = {
  MongoServerError: 'OperationFailure',
  MongoServerSelectionError: 'ServerSelectionTimeoutError',
  MongooseServerSelectionError: 'ServerSelectionTimeoutError',
  MongoNetworkError: 'AutoReconnect',
  MongoNetworkTimeoutError: 'NetworkTimeout',
  MongoBulkWriteError: 'BulkWriteError',
};

function errorType(err) {
  if (err instanceof GatewayError) return err.type;
  if (err && err.code === 11000) return 'DuplicateKeyError';
  if (err && DRIVER_ERROR_TYPES[err.name]) return DRIVER_ERROR_TYPES[err.name];
  return (err && err.name) || 'Error';
}

// --- routing --------------------------------------------------------------------------------------

const TABLE = routingTable(ROOT, ROUTES); // op -> {entry, routed, reason, mirrors}
const COUNTS = ['counts.count', 'counts.aggregate'];

// Repositories and their methods, found from the checkout's adapter class without a database:
// its initializeRepositories() run against stand-in models.
function repositories() {
  const { MongoDbAdapter } = lib.gateway;
  const out = {};
  if (!MongoDbAdapter || typeof MongoDbAdapter.prototype.initializeRepositories !== 'function') return out;
  const standIn = { repositories: new Map(), models: new Proxy({}, { get: () => ({}) }) };
  MongoDbAdapter.prototype.initializeRepositories.call(standIn);
  for (const [name, repo] of standIn.repositories) {
    const methods = new Set();
    for (let p = Object.getPrototypeOf(repo); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const m of Object.getOwnPropertyNames(p)) if (m !== 'constructor' && typeof p[m] === 'function') methods.add(m);
    }
    out[name] = [...methods].sort();
  }
  return out;
}

function hello() {
  const ops = [];
  const notOffered = {};
  const legacyNotOffered = {};
  for (const [op, row] of Object.entries(TABLE)) {
    if (row.routed && !row.unreachable) ops.push(op);
    else notOffered[op] = row.reason;
    if (!row.entry.legacy) legacyNotOffered[op] = 'the old branch of this operation is not transcribed in the adapter';
  }
  return {
    name: NAME, version: VERSION, protocol: 2,
    gateway: process.env.MIGRATOR_LIBRECHAT_DESCRIBE || ROOT,
    mongoose: mongoose.version,
    ops: [...ops, ...COUNTS],
    not_offered: notOffered,
    branches: ['gateway', 'legacy'],
    default_branch: DEFAULT_BRANCH,
    legacy_not_offered: legacyNotOffered,
  };
}

// Counts through the repository whose model owns the collection (count / aggregate as they are).
async function countsRepo(collection) {
  const gw = await gateway();
  for (const name of Object.keys(repositories())) {
    const repo = gw.getRepository(name);
    if (repo && repo.model && repo.model.collection && repo.model.collection.collectionName === collection) return repo;
  }
  throw new GatewayError('NotOffered', `no repository of this checkout owns the collection ${JSON.stringify(collection)}`);
}

const COUNT_OPS = {
  async 'counts.count'(a) { return (await countsRepo(a.collection)).count(a.filter || {}); },
  async 'counts.aggregate'(a) { return (await countsRepo(a.collection)).aggregate(a.pipeline || []); },
};

async function run(op, args, branch) {
  if (op === '$noop') return null;
  if (COUNT_OPS[op]) {
    if (branch === 'legacy') throw new GatewayError('NotOffered', 'counts run through the gateway repositories only');
    return COUNT_OPS[op](args);
  }
  const row = TABLE[op];
  if (!row) throw new GatewayError('UnknownOperation', `unknown operation ${JSON.stringify(op)}`);
  if (branch === 'legacy') {
    if (!row.entry.legacy) throw new GatewayError('NotOffered', hello().legacy_not_offered[op]);
    await gateway(); // the same connection and models as the gateway's
    return row.entry.legacy(helpers, args);
  }
  if (branch !== 'gateway') throw new GatewayError('BadRequest', `unknown branch ${JSON.stringify(branch)}`);
  if (!row.routed || row.unreachable) throw new GatewayError('NotOffered', row.reason);
  return row.entry.gateway(helpers, args);
}

// --- the protocol loop ----------------------------------------------------------------------------

function send(obj, valueJson) {
  const head = JSON.stringify(obj);
  writeProtocol(valueJson === undefined ? `${head}\n` : `${head.slice(0, -1)},"value":${valueJson}}\n`);
}

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    send({ id: null, error: { type: 'BadRequest', message: `request is not JSON: ${err.message}` } });
    return;
  }
  const { id = null, op } = request;
  const start = process.hrtime.bigint();
  try {
    let value;
    if (op === '$hello') value = hello();
    else {
      const args = EJSON.deserialize(request.args ?? {}, { relaxed: true });
      value = plain(await run(op, args, request.branch || DEFAULT_BRANCH));
    }
    const ns = Number(process.hrtime.bigint() - start);
    send({ id, ns }, EJSON.stringify(value === undefined ? null : value, { relaxed: false }));
  } catch (err) {
    const ns = Number(process.hrtime.bigint() - start);
    send({ id, ns, error: { type: errorType(err), message: String((err && err.message) || err) } });
  }
}

async function main() {
  if (process.argv.includes('--describe')) {
    const routes = {};
    for (const [op, row] of Object.entries(TABLE)) {
      routes[op] = { routed: row.routed && !row.unreachable, mirrors: row.mirrors, reason: row.reason || null,
        legacy: Boolean(row.entry.legacy) };
    }
    writeProtocol(`${JSON.stringify({ name: NAME, version: VERSION, mongoose: mongoose.version,
      repositories: repositories(), routes })}\n`);
    return;
  }
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) await handle(line);
  if (connecting) {
    try { await (await connecting).disconnect(); } catch { /* already gone */ }
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${NAME}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

