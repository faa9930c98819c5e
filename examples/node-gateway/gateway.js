#!/usr/bin/env node
// Reference implementation of migrator's external-gateway protocol (docs/external-gateway.md)
// in Node.js with the official `mongodb` driver: every catalog operation (reads and writes) with
// LibreChat v0.8.0-rc3's semantics, as migrator's legacy path (migrator/services/*/legacy.py) defines
// them, plus the count job's `counts.count` / `counts.aggregate`.
//
//   protocol.js   the loop: `serve(ops, info)` (handshake, `ns` timing, `$noop`, record mode)
//   ops/<area>.js one module per service area: { reads, writes }; ops/index.js merges them
//   lib/          the database connection, Mongoose's casts and defaults, value types, ACLs
//
// Environment:
//   MONGO_URI             connection string (LibreChat's own variable name)
//   MIGRATOR_GATEWAY_DB   database name (default: the URI's path, else "LibreChat")
//   MIGRATOR_RECORD       optional file: append every operation received as a replay line
//
// To wrap LibreChat's TypeScript db-gateway, keep protocol.js and write ops whose bodies call its
// repositories instead of the driver (see docs/external-gateway.md).
'use strict';

const { main } = require('./protocol');
const { ops } = require('./ops');
const store = require('./lib/db');

const info = {
  name: 'migrator-node-gateway',
  version: require('./package.json').version,
  driver: `mongodb ${require('mongodb/package.json').version}`,
  branches: ['gateway'],
};

if (require.main === module) main(ops, info, { close: store.close });

module.exports = { info };
