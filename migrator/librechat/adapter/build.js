#!/usr/bin/env node
// Bundles a LibreChat checkout's own db-gateway sources (unmodified) for the migrator adapter.
//
//   node build.js <spec.json>
//
// spec: {"esbuild": "<dir holding node_modules/esbuild>", "entry": "<gateway src/index.ts>",
//        "workspace": {"<package name>": "<its src/index.ts>", ...}, "out": "<bundle.cjs>"}
//
// Workspace packages (@librechat/data-schemas, librechat-data-provider, ...) are compiled from the
// checkout's sources; every other bare import stays external and is resolved at run time from the
// node_modules next to the bundle (or NODE_PATH). Prints {"externals": [...]} on stdout.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const esbuild = require(require.resolve('esbuild', { paths: [spec.esbuild] }));
const BUILTIN = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const externals = new Set();
const workspacePlugin = {
  name: 'librechat-workspace',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (Object.prototype.hasOwnProperty.call(spec.workspace, args.path)) {
        return { path: spec.workspace[args.path] };
      }
      if (args.path.startsWith('~/')) return undefined; // tsconfig paths, resolved by esbuild
      if (!BUILTIN.has(args.path)) externals.add(packageName(args.path));
      return { path: args.path, external: true };
    });
  },
};

// The entry: the checkout's gateway, its schemas package (for the legacy branch) and mongoose,
// all from one module graph so they share one mongoose instance.
const entrySource = [
  `exports.gateway = require(${JSON.stringify(spec.entry)});`,
  spec.schemas ? `exports.schemas = require(${JSON.stringify(spec.schemas)});` : 'exports.schemas = null;',
  `exports.mongoose = require('mongoose');`,
].join('\n');

esbuild
  .build({
    stdin: { contents: entrySource, resolveDir: path.dirname(spec.entry), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    outfile: spec.out,
    logLevel: 'silent',
    plugins: [workspacePlugin],
  })
  .then(() => {
    process.stdout.write(`${JSON.stringify({ externals: [...externals].sort() })}\n`);
  })
  .catch((err) => {
    const first = (err.errors && err.errors[0]) || {};
    const where = first.location ? ` (${first.location.file}:${first.location.line})` : '';
    process.stderr.write(`esbuild: ${first.text || err.message}${where}\n`);
    process.exit(1);
  });
