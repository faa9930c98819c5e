#!/usr/bin/env node
// A deliberately wrong gateway for migrator's tests: the reference gateway
// (examples/node-gateway) with the faults named in MIGRATOR_FAULTS (a comma list):
//
//   unscoped-delete      conversations.delete and files.delete_files delete without the
//                        owner / user filter
//   lost-inc             files.increment_usage does not increment `usage`
//   string-owner-counts  counts.aggregate groups owners as strings ($toString), so ObjectId
//                        owners and string owners come back alike
//   tracing              one line per received request, {"op", "id"}, appended to the file
//                        MIGRATOR_TRACE (so a test can prove every call arrived)
//
// With no fault it answers exactly as the reference gateway.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const REFERENCE = path.join(__dirname, '..', '..', 'examples', 'node-gateway');
const { main } = require(path.join(REFERENCE, 'protocol'));
const { ops } = require(path.join(REFERENCE, 'ops'));
const { info } = require(path.join(REFERENCE, 'gateway'));
const store = require(path.join(REFERENCE, 'lib', 'db'));
const { deleteConvos } = require(path.join(REFERENCE, 'ops', 'conversations'));
const { castFilter } = require(path.join(REFERENCE, 'lib', 'mongoose'));

const FAULTS = ['unscoped-delete', 'lost-inc', 'string-owner-counts', 'tracing'];
const faults = (process.env.MIGRATOR_FAULTS || '').split(',').map((f) => f.trim()).filter(Boolean);
const unknown = faults.filter((f) => !FAULTS.includes(f));
if (unknown.length) {
  process.stderr.write(`faulty gateway: unknown MIGRATOR_FAULTS ${unknown.join(', ')} (known: ${FAULTS.join(', ')})\n`);
  process.exit(2);
}
if (faults.includes('tracing') && !process.env.MIGRATOR_TRACE) {
  process.stderr.write('faulty gateway: the tracing fault needs MIGRATOR_TRACE=<file>\n');
  process.exit(2);
}

const wrong = {};

if (faults.includes('unscoped-delete')) {
  // deleteConvos without `user`: another user's conversation with that id goes too, and
  // "delete all" ({} filter) empties the collection.
  wrong['conversations.delete'] = async (args) => deleteConvos(castFilter('conversations', args.filter || {}));
  // deleteFiles ignoring the user: by file id only, whoever owns the files.
  wrong['files.delete_files'] = async (args) => {
    const files = await store.coll('files');
    return (await files.deleteMany({ file_id: { $in: [...(args.file_ids || [])] } })).deletedCount;
  };
}

if (faults.includes('lost-inc')) {
  // updateFileUsage without the $inc: the TTL and temp id go, the usage stays.
  wrong['files.increment_usage'] = async (args) =>
    store.findOneAndUpdate(
      'files',
      { file_id: args.file_id },
      { $unset: { expiresAt: '', temp_file_id: '' }, $set: { updatedAt: new Date() } },
    );
}

if (faults.includes('string-owner-counts')) {
  // A repository that "normalises" owners: every `$group` by a field groups by its string.
  wrong['counts.aggregate'] = async (args) => {
    const pipeline = (args.pipeline || []).map((stage) => {
      const group = stage.$group;
      if (!group || typeof group._id !== 'string' || !group._id.startsWith('$')) return stage;
      return { $group: { ...group, _id: { $toString: group._id } } };
    });
    return store.aggregate(args.collection, pipeline);
  };
}

const options = { close: store.close };
if (faults.includes('tracing')) {
  const trace = process.env.MIGRATOR_TRACE;
  options.onRequest = (request) => {
    fs.appendFileSync(trace, `${JSON.stringify({ op: request.op, id: request.id })}\n`);
  };
}

main({ ...ops, ...wrong }, { ...info, name: 'migrator-faulty-gateway', faults }, options);
