'use strict';
// The one database connection of a gateway process: opened lazily at the first operation (so the
// `$hello` handshake answers at once), to the database of MIGRATOR_GATEWAY_DB, and never cached
// beyond the driver's own connection pool: every call reads the database.
const { MongoClient } = require('mongodb');
const { GatewayError } = require('./errors');

// Read documents as stored: wrapper types for int32/int64/double, BSONRegExp for regexes,
// Binary for binary data. With the driver's default promotion a stored double 1.0 becomes the
// JS number 1, which canonical EJSON writes as an int32: the type would be lost.
const READ_OPTIONS = { promoteValues: false, promoteLongs: false, bsonRegExp: true };

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
  const fresh = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
  await fresh.connect();
  client = fresh;
  database = client.db(dbName());
  return database;
}

async function coll(name) {
  return (await db()).collection(name);
}

async function close() {
  if (client) await client.close();
  client = null;
  database = null;
}

// --- the few calls the operations make, always with READ_OPTIONS ---------------------------

async function findOne(collection, filter, projection) {
  const options = { ...READ_OPTIONS };
  if (projection) options.projection = projection;
  return (await coll(collection)).findOne(filter, options);
}

// find(filter, projection).sort(sort).limit(limit) as an array; `limit` 0/undefined: no limit.
async function find(collection, filter, { projection, sort, limit } = {}) {
  const options = { ...READ_OPTIONS };
  if (projection) options.projection = projection;
  let cursor = (await coll(collection)).find(filter, options);
  if (sort) cursor = cursor.sort(sort);
  if (limit) cursor = cursor.limit(limit);
  return cursor.toArray();
}

async function count(collection, filter) {
  return (await coll(collection)).countDocuments(filter);
}

async function aggregate(collection, pipeline) {
  return (await coll(collection)).aggregate(pipeline, { ...READ_OPTIONS }).toArray();
}

async function distinct(collection, key, filter) {
  return (await coll(collection)).distinct(key, filter, { ...READ_OPTIONS });
}

// findOneAndUpdate returning the document after the update (`new: true`), or null.
async function findOneAndUpdate(collection, filter, update, { projection, upsert = false } = {}) {
  const options = { ...READ_OPTIONS, returnDocument: 'after', upsert };
  if (projection) options.projection = projection;
  return (await coll(collection)).findOneAndUpdate(filter, update, options);
}

module.exports = {
  READ_OPTIONS, dbName, db, coll, close, findOne, find, count, aggregate, distinct, findOneAndUpdate,
};
