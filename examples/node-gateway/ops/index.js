'use strict';
// Every operation of the reference gateway, by catalog name (`python3 -m migrator ops`), and the
// count job's protocol operations. A test gateway takes these, overrides a few, and serves them:
//
//   const { ops } = require('examples/node-gateway/ops');
//   main({ ...ops, 'files.increment_usage': wrong }, info);
const AREAS = ['auth', 'conversations', 'messages', 'files', 'transactions', 'agents', 'prompts'];

const reads = {};
const writes = {};
for (const area of AREAS) {
  const module_ = require(`./${area}`);
  Object.assign(reads, module_.reads);
  Object.assign(writes, module_.writes);
}
const { counts } = require('./counts');

const ops = { ...reads, ...writes, ...counts };

module.exports = { AREAS, reads, writes, counts, ops };
