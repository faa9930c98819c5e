'use strict';
// The protocol loop of migrator's external-gateway protocol (docs/external-gateway.md), apart
// from any operation: `serve(ops, info)` answers `$hello` with `info` and the names of `ops`,
// runs every other request through `ops[op](args)`, one at a time, in order, and exits at the
// end of stdin.
//
//   stdin : one JSON request per line   {"id": 1, "op": "auth.get_user_by_id", "args": {...}}
//   stdout: one JSON response per line  {"id": 1, "value": ..., "ns": 41250}
//                                    or {"id": 1, "error": {"type": "CastError", "message": "..."}, "ns": 812}
//
// The envelope is plain JSON; `args` and `value` are MongoDB Extended JSON v2, canonical mode,
// so int32 / int64 / double / Decimal128 / ObjectId / Date / Binary / RegExp keep their types.
// Protocol 2 adds `ns` to every response: nanoseconds spent inside the call (monotonic clock),
// from after the request was decoded to before the response is encoded.
//
// Environment: MIGRATOR_RECORD=file appends every operation received as a replay line
// {"op", "args", "at"} (args as received, canonical EJSON; `at` ISO-8601 UTC).
const fs = require('node:fs');
const readline = require('node:readline');
const { BSON } = require('mongodb');
const { GatewayError, errorType } = require('./lib/errors');
const { plain } = require('./lib/values');

const { EJSON } = BSON;
const EJSON_OPTIONS = { relaxed: false };
const PROTOCOL = 2;

// Operations every gateway answers; `ops` may override them.
const protocolOps = (name) => ({
  // Returns its args unchanged: round trip of every BSON type.
  async $echo(args) {
    return args;
  },
  // Answers after `ms` milliseconds: a call that hangs.
  async $sleep(args) {
    await new Promise((resolve) => setTimeout(resolve, Number(plain(args.ms) || 0)));
    return null;
  },
  // The process dies without answering.
  async $exit(args) {
    const code = args.code === undefined ? 1 : Number(plain(args.code));
    process.stderr.write(`${name}: exiting with code ${code} as asked\n`);
    process.exit(code);
  },
});

// v2: does nothing; the client times it to measure the pipe and the coding.
async function $noop() {
  return null;
}

function recorder(path) {
  if (!path) return () => {};
  return (op, rawArgs) => {
    if (op.startsWith('$')) return;
    // rawArgs is the request's own canonical EJSON, so the replay file keeps every type.
    const at = new Date().toISOString();
    fs.appendFileSync(path, `{"op":${JSON.stringify(op)},"args":${JSON.stringify(rawArgs ?? {})},"at":${JSON.stringify(at)}}\n`);
  };
}

// info: {name, version, protocol (default 2), driver, not_offered, branches, ...} for `$hello`.
// options.onRequest(request): called with every parsed request before it runs (test gateways).
// options.close(): awaited at the end of stdin (e.g. close the database connection).
async function serve(ops, info = {}, options = {}) {
  const protocol = info.protocol ?? PROTOCOL;
  const table = { ...protocolOps(info.name || 'gateway'), ...(protocol >= 2 ? { $noop } : {}), ...ops };
  const record = recorder(process.env.MIGRATOR_RECORD || '');
  const hello = { ...info, protocol, ops: Object.keys(table) };
  const branches = info.branches || ['gateway'];

  function send(id, body, t0) {
    const ns = protocol >= 2 ? `,"ns":${process.hrtime.bigint() - t0}` : '';
    // `ns` is taken before the value is encoded: the coding is the pipe's cost, not the gateway's.
    const encoded = 'error' in body ? JSON.stringify(body.error) : EJSON.stringify(body.value ?? null, EJSON_OPTIONS);
    const key = 'error' in body ? 'error' : 'value';
    process.stdout.write(`{"id":${JSON.stringify(id)},"${key}":${encoded}${ns}}\n`);
  }

  async function handle(line) {
    let request;
    let t0 = process.hrtime.bigint(); // restarted once the request is decoded
    try {
      request = JSON.parse(line);
    } catch (err) {
      send(null, { error: { type: 'BadRequest', message: `request is not JSON: ${err.message}` } }, t0);
      return;
    }
    const { id = null, op } = request;
    try {
      if (options.onRequest) options.onRequest(request);
      const fn = typeof op === 'string' && Object.prototype.hasOwnProperty.call(table, op) ? table[op] : null;
      if (op === '$hello') {
        send(id, { value: hello }, process.hrtime.bigint());
        return;
      }
      if (!fn) throw new GatewayError('UnknownOperation', `unknown operation ${JSON.stringify(op)}`);
      record(op, request.args);
      const args = EJSON.deserialize(request.args ?? {}, EJSON_OPTIONS);
      t0 = process.hrtime.bigint();
      if (request.branch !== undefined && !branches.includes(request.branch)) {
        throw new GatewayError('BadRequest', `branch ${JSON.stringify(request.branch)} is not offered (branches: ${branches.join(', ')})`);
      }
      send(id, { value: await fn(args) }, t0);
    } catch (err) {
      send(id, { error: { type: errorType(err), message: String((err && err.message) || err) } }, t0);
    }
  }

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim()) await handle(line);
  }
  if (options.close) await options.close();
}

// Run `serve` as a process's main: a crash is one line on stderr and exit code 1.
function main(ops, info, options) {
  serve(ops, info, options).catch((err) => {
    process.stderr.write(`${info.name || 'gateway'}: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
}

module.exports = { serve, main, PROTOCOL };
