'use strict';
// Error `type` names follow the vocabulary of migrator's Python legacy path (its exception class
// names), so that an error on both sides compares equal (docs/external-gateway.md, "Errors").

class GatewayError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// Mongoose's CastError message, e.g. for an ObjectId path.
function castError(path, value, kind = 'ObjectId') {
  return new GatewayError('CastError', `Cast to ${kind} failed for value "${value}" at path "${path}"`);
}

function typeError(message) {
  return new GatewayError('TypeError', message);
}

// Driver error classes -> the pymongo exception a Python gateway would raise.
const DRIVER_ERROR_TYPES = {
  MongoServerError: 'OperationFailure',
  MongoBulkWriteError: 'BulkWriteError',
  MongoServerSelectionError: 'ServerSelectionTimeoutError',
  MongoNetworkError: 'AutoReconnect',
  MongoNetworkTimeoutError: 'NetworkTimeout',
  MongoParseError: 'ConfigurationError',
  MongoInvalidArgumentError: 'InvalidOperation',
  BSONError: 'InvalidBSON',
};

// Server codes pymongo raises as DuplicateKeyError (findAndModify with upsert among them).
const DUPLICATE_KEY_CODES = [11000, 11001, 12582];

function errorType(err) {
  if (err instanceof GatewayError) return err.type;
  // A command read with promoteValues:false carries its code as an Int32.
  const code = err && err.code !== undefined && err.code !== null ? Number(err.code.valueOf()) : null;
  if (err && err.name === 'MongoServerError' && DUPLICATE_KEY_CODES.includes(code)) return 'DuplicateKeyError';
  if (err && DRIVER_ERROR_TYPES[err.name]) return DRIVER_ERROR_TYPES[err.name];
  return (err && err.name) || 'Error';
}

// What pymongo would call a PyMongoError: any error the driver raised.
function isDriverError(err) {
  return Boolean(err && typeof err.name === 'string' && err.name.startsWith('Mongo'));
}

module.exports = { GatewayError, castError, typeError, DRIVER_ERROR_TYPES, errorType, isDriverError };
