'use strict';
// The nightly count job's questions (protocol v2, "Counts"): the filters and pipelines go to the
// database exactly as they arrive — a repository that casts or rewrites them (an ObjectId owner
// turned into a string) is what the job is there to catch.
const store = require('../lib/db');
const { need } = require('../lib/values');

const counts = {
  // A repository's count(filter).
  async 'counts.count'(args) {
    return store.count(need(args, 'collection', 'string'), need(args, 'filter'));
  },

  // A repository's aggregate(pipeline): `$match` then `$group`.
  async 'counts.aggregate'(args) {
    return store.aggregate(need(args, 'collection', 'string'), need(args, 'pipeline'));
  },
};

module.exports = { counts };
