'use strict';
// Application code LibreChat runs around the data access of the agent and prompt routes (query
// parsing, cursors, the duplicate-version check), as the oracle spells it
// (migrator/services/js.py, access/ and agents/shared.py: what both paths share), plus the Python
// formatting that check relies on (json.dumps, str) so both sides compare values alike.
const { ObjectId, Decimal128 } = require('mongodb');
const { fromIsoFormat } = require('./mongoose');
const { plain, isNumeric, isFloat, isDict, jsTruthy } = require('./values');

// JS parseInt of a query-string value (NaN when there is no leading integer).
function jsParseInt(value, radix = null) {
  const v = plain(value);
  if (v === null || v === undefined || typeof v === 'boolean') return NaN;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : NaN;
  if (typeof v !== 'string') return NaN;
  let text = v.trimStart();
  const sign = text.startsWith('-') ? -1 : 1;
  if (text && '+-'.includes(text[0])) text = text.slice(1);
  if ((radix === null || radix === 16) && text.slice(0, 2).toLowerCase() === '0x') {
    const hex = /^[0-9a-fA-F]*/.exec(text.slice(2))[0];
    return hex ? sign * parseInt(hex, 16) : NaN;
  }
  const digits = /^[0-9]*/.exec(text)[0];
  return digits ? sign * Number(digits) : NaN;
}

// JS String(value) for the values query strings and documents hold.
function jsString(value) {
  const v = plain(value);
  if (Array.isArray(v)) return v.map((x) => (x === null || x === undefined ? '' : jsString(x))).join(',');
  if (isDict(v)) return '[object Object]';
  if (v instanceof ObjectId) return v.toHexString();
  return String(v);
}

// getListAgentsByAccess / getListPromptGroupsByAccess: no limit => unpaginated;
// parseInt(limit) || 20 (so 0 and junk become 20), clamped to 1..100.
function normalizeLimit(limit) {
  if (limit === null || limit === undefined) return null;
  let parsed = jsParseInt(limit);
  if (!jsTruthy(parsed)) parsed = 20;
  return Math.trunc(Math.min(Math.max(1, parsed), 100));
}

// Python's repr of a float: the shortest round trip (as JS), fixed notation for exponents
// -4..15 with at least one decimal, else d.ddde±XX.
function pyFloatRepr(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  if (e >= -4 && e < 16) {
    const text = String(x); // fixed notation in this range
    return text.includes('.') ? text : `${text}.0`;
  }
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function pyStrValue(v) {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof ObjectId) return v.toHexString();
  if (isFloat(v)) return pyFloatRepr(plain(v));
  if (isNumeric(v)) return String(plain(v));
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  return String(v);
}

// Python json.dumps(value, separators=(',', ':'), ensure_ascii=False) with a default that writes
// datetimes as ISO strings and anything else as str(obj).
function pyJson(value) {
  const v = value;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (isFloat(v)) return pyFloatRepr(plain(v));
  if (isNumeric(v)) return String(plain(v));
  if (Array.isArray(v)) return `[${v.map(pyJson).join(',')}]`;
  if (isDict(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${pyJson(x)}`).join(',')}}`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  return JSON.stringify(pyStrValue(v));
}

const MISSING = Symbol('missing');

// JS `===` between values of a document and of a request.
function jsStrictEqual(a, b) {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (isNumeric(a) && isNumeric(b)) return plain(a) === plain(b);
  if (Array.isArray(a) || Array.isArray(b) || isDict(a) || isDict(b)) return a === b;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (typeof a === 'string') return a === b;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof ObjectId) return b instanceof ObjectId && a.equals(b);
  if (a instanceof Decimal128) return b instanceof Decimal128 && a.toString() === b.toString();
  return a === b;
}

function objectKeys(v) {
  return isDict(v) ? Object.keys(v) : []; // Dates, ObjectIds: no own keys
}

function sortBy(list, key) {
  return list
    .map((item) => [key(item), item])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, item]) => item);
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// isDuplicateVersion of B's Agent.js: the last version when the update would reproduce it
// (timestamps, ids and author ignored; falsy values, [] and {} alike); null otherwise.
const UPDATE_OPERATORS = ['$push', '$pull', '$addToSet'];
const VERSION_COMPARE_EXCLUDED = new Set([
  '_id', 'id', 'createdAt', 'updatedAt', 'author', 'updatedBy', 'created_at', 'updated_at', '__v',
  'versions', 'actionsHash',
]);

function isDuplicateVersion(updateData, currentData, versions) {
  if (!versions || versions.length === 0) return null;
  const direct = {};
  for (const [k, v] of Object.entries(updateData)) if (!UPDATE_OPERATORS.includes(k)) direct[k] = v;
  if (Object.keys(direct).length === 0) return null;
  const wouldBe = { ...currentData, ...direct };
  const last = versions[versions.length - 1];
  const fields = [...new Set([...Object.keys(wouldBe), ...Object.keys(last)])].filter(
    (f) => !VERSION_COMPARE_EXCLUDED.has(f),
  );
  for (const field of fields) {
    const neu = field in wouldBe ? wouldBe[field] : MISSING;
    const old = field in last ? last[field] : MISSING;
    const newV = neu === MISSING ? null : neu;
    const oldV = old === MISSING ? null : old;
    if (!jsTruthy(newV) && !jsTruthy(oldV)) continue;
    if (Array.isArray(newV) || Array.isArray(oldV)) {
      const asList = (v) => (Array.isArray(v) ? v : v === null ? [] : [v]);
      const [newArr, oldArr] = [asList(newV), asList(oldV)];
      if (newArr.length !== oldArr.length) return null;
      if (field === 'projectIds') {
        if (!sameList(newArr.map(pyStrValue).sort(), oldArr.map(pyStrValue).sort())) return null;
      } else if (newArr.length && isDict(newArr[0])) {
        if (!sameList(newArr.map(pyJson).sort(), oldArr.map(pyJson).sort())) return null;
      } else {
        const [a, b] = [sortBy(newArr, jsString), sortBy(oldArr, jsString)];
        if (!a.every((x, i) => jsStrictEqual(x, b[i]))) return null;
      }
    } else if (isDict(newV) || newV instanceof Date || newV instanceof ObjectId) {
      const oldObj = isDict(oldV) || oldV instanceof Date || oldV instanceof ObjectId ? oldV : {};
      if (!objectKeys(newV).length && !objectKeys(oldObj).length) continue; // {} vs {}, any Dates
      if (pyJson(newV) !== pyJson(oldObj)) return null;
    } else if (!jsStrictEqual(newV, oldV)) {
      if (newV === false && old === MISSING) continue;
      if (newV === '' && old === MISSING) continue;
      return null;
    }
  }
  return last;
}

// JSON.parse(Buffer.from(after, 'base64')) then new ObjectId(_id), inside the try/catch that
// logs "Invalid cursor" and drops the condition (null). {updatedAt (maybe MISSING), id}.
function legacyCursor(after) {
  if (!after || typeof after !== 'string') return null;
  let payload;
  try {
    payload = JSON.parse(Buffer.from(after, 'base64').toString('utf8'));
  } catch (err) {
    return null;
  }
  if (payload === null) return null;
  const cursor = isDict(payload) ? payload : {};
  const rawId = cursor._id ?? null;
  let id;
  if (rawId === null) id = new ObjectId();
  else if (typeof rawId === 'string' && /^[0-9a-fA-F]{24}$/.test(rawId)) id = ObjectId.createFromHexString(rawId);
  else return null;
  return { updatedAt: 'updatedAt' in cursor ? cursor.updatedAt : MISSING, id };
}

// datetime's range: years 1..9999.
function inPythonRange(ms) {
  const first = new Date(0);
  first.setUTCFullYear(1, 0, 1);
  return ms >= first.getTime() && ms <= Date.UTC(9999, 11, 31, 23, 59, 59, 999);
}

// new Date(value) with the oracle's reading: null when Invalid (or beyond year 1..9999).
function legacyJsDate(value) {
  if (value === MISSING) return null;
  if (value === null || typeof value === 'boolean') return new Date(value ? 1 : 0);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.trunc(value);
    return inPythonRange(ms) ? new Date(ms) : null;
  }
  if (typeof value !== 'string') return null;
  return fromIsoFormat(value.trim().replace(/Z/g, '+00:00'));
}

// One page of `limit` rows; `after` encodes the last returned row.
function page(rows, limit) {
  if (limit === null) return { data: rows, hasMore: false, after: null };
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit);
  let after = null;
  if (hasMore && data.length) {
    const last = rows[limit - 1];
    const payload = JSON.stringify({ updatedAt: last.updatedAt.toISOString(), _id: last._id.toHexString() });
    after = Buffer.from(payload, 'utf8').toString('base64');
  }
  return { data, hasMore, after };
}

module.exports = {
  jsParseInt, jsString, normalizeLimit, pyFloatRepr, pyStrValue, pyJson, jsStrictEqual,
  isDuplicateVersion, legacyCursor, legacyJsDate, page, MISSING, UPDATE_OPERATORS,
};
