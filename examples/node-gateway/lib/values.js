'use strict';
// Values as the legacy path sees them. Arguments arrive as canonical Extended JSON and documents
// are read with promoteValues:false, so numbers are BSON wrappers (Int32, Long, Double) that
// keep their type when written back or answered. The Python oracle distinguishes int and float
// (an int is stored as int32, or int64 beyond; a float as a double), so numbers this gateway
// computes are built with the same types: pyInt / pyFloat / pyAdd / pyMul.
const { Int32, Double, Long, ObjectId, Decimal128 } = require('mongodb');
const { typeError } = require('./errors');

function isWrapper(v) {
  return v instanceof Int32 || v instanceof Double || v instanceof Long;
}

// A number wrapper as a JS number; any other value unchanged.
function plain(v) {
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Long) return v.toNumber();
  return v;
}

function isNumeric(v) {
  return typeof v === 'number' || isWrapper(v);
}

// Python's float vs int: a Double wrapper (or a fractional JS number) is a float.
function isFloat(v) {
  return v instanceof Double || (typeof v === 'number' && !Number.isInteger(v));
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

// A Python int as BSON stores it: int32 when it fits (a plain JS integer), else int64.
function pyInt(n) {
  return n >= INT32_MIN && n <= INT32_MAX ? n : Long.fromNumber(n);
}

function pyFloat(x) {
  return new Double(x);
}

function pyNumber(x, float) {
  return float ? pyFloat(x) : pyInt(x);
}

function pyAdd(a, b) {
  return pyNumber(plain(a) + plain(b), isFloat(a) || isFloat(b));
}

function pyMul(a, b) {
  return pyNumber(plain(a) * plain(b), isFloat(a) || isFloat(b));
}

// Plain JS objects (documents), not Dates, ObjectIds, wrappers or arrays.
function isDict(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Python truthiness: empty strings, lists and dicts are false, NaN is true.
function pyTruthy(v) {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (isNumeric(v)) return plain(v) !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  if (v instanceof Decimal128) return !/^-?0(\.0*)?(E[+-]?\d+)?$/i.test(v.toString());
  return true;
}

// JS truthiness of a value that may be a wrapper (a wrapper object itself is always truthy).
function jsTruthy(v) {
  return Boolean(plain(v));
}

// Python's str() of the values the operations stringify.
function pyStr(v) {
  if (v === null || v === undefined) return 'None';
  if (v instanceof ObjectId) return v.toHexString();
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(plain(v));
}

// Own enumerable keys without the `undefined` values JS destructuring leaves behind.
function entries(obj) {
  return Object.entries(obj || {}).filter(([, v]) => v !== undefined);
}

// A required keyword argument (Python raises TypeError when one is missing).
function need(args, name, type) {
  if (args[name] === undefined) throw typeError(`missing required argument '${name}'`);
  const value = args[name];
  if (type === 'string' && typeof value !== 'string') throw typeError(`argument '${name}' must be a string`);
  if (type === 'date' && !(value instanceof Date)) throw typeError(`argument '${name}' must be a date ($date)`);
  return value;
}

module.exports = {
  isWrapper, plain, isNumeric, isFloat, pyInt, pyFloat, pyNumber, pyAdd, pyMul, isDict, pyTruthy,
  jsTruthy, pyStr, entries, need,
};
