#!/usr/bin/env node
// A gateway that offers only part of the catalog, for migrator's coverage tests: the reference
// gateway (examples/node-gateway) without agents.* and prompts.*, each listed in `not_offered`
// with its reason. With MIGRATOR_PROTOCOL=1 it is a protocol-1 gateway: `$hello` says protocol
// 1, responses carry no `ns`, and it offers reads only (no writes, no counts, no $noop).
'use strict';

const path = require('node:path');

const REFERENCE = path.join(__dirname, '..', '..', 'examples', 'node-gateway');
const { main } = require(path.join(REFERENCE, 'protocol'));
const { reads, writes, counts } = require(path.join(REFERENCE, 'ops'));
const { info } = require(path.join(REFERENCE, 'gateway'));
const store = require(path.join(REFERENCE, 'lib', 'db'));

const DROPPED = {
  agents: 'agents live in a separate service this gateway does not wrap',
  prompts: 'the prompt library is not migrated yet',
};
const protocol = process.env.MIGRATOR_PROTOCOL === '1' ? 1 : 2;

const offered = {};
const notOffered = {};
for (const [name, fn] of Object.entries(protocol === 1 ? reads : { ...reads, ...writes, ...counts })) {
  const reason = DROPPED[name.split('.', 1)[0]];
  if (reason) notOffered[name] = reason;
  else offered[name] = fn;
}

const hello = { ...info, name: 'migrator-partial-gateway', protocol, not_offered: notOffered };
if (protocol === 1) delete hello.branches; // a v2 key
main(offered, hello, { close: store.close });
