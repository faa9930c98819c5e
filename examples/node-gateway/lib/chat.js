'use strict';
// What the two chat areas (conversations, messages) share.

// B's `interface.temporaryChatRetention` default: 720 h.
const TEMP_CHAT_RETENTION_MS = 720 * 3600 * 1000;

// createTempChatExpirationDate: now + the retention.
function tempExpiry(now) {
  return new Date(now.getTime() + TEMP_CHAT_RETENTION_MS);
}

const COUNTS = ['insertedCount', 'matchedCount', 'modifiedCount', 'deletedCount', 'upsertedCount'];

// The counts of Mongoose's bulkWrite result.
function bulkResult(result) {
  const out = {};
  for (const key of COUNTS) out[key] = result[key];
  out.upsertedIds = {};
  for (const [index, id] of Object.entries(result.upsertedIds || {})) out.upsertedIds[String(index)] = id;
  return out;
}

// Mongoose answers an empty bulkWrite itself, without calling the server.
function emptyBulkResult() {
  const out = {};
  for (const key of COUNTS) out[key] = 0;
  out.upsertedIds = {};
  return out;
}

module.exports = { tempExpiry, bulkResult, emptyBulkResult };
