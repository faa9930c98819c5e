// Reads the checkout's sources to decide, per routing entry, whether LibreChat sends the
// operation through the gateway: the mirrored function's USE_DB_GATEWAY branch, present and
// switched on, and calling what the routing table mirrors. Every reason cites file:line.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const PREFIX = 'not gateway-routed in this checkout: ';

function lineOf(text, index) {
  return text.slice(0, index).split('\n').length;
}

// The function's definition: `function f(`, `f = async (…) =>`, or a method / property `f(`/`f:`.
function findFunction(text, fn) {
  const patterns = [
    new RegExp(`(?:async\\s+)?function\\s*\\*?\\s*${fn}\\s*\\(`),
    new RegExp(`(?:const|let|var)\\s+${fn}\\s*=\\s*(?:async\\s*)?(?:function\\b|\\([^)]*\\)\\s*=>|\\w+\\s*=>)`),
    new RegExp(`^\\s*(?:async\\s+)?${fn}\\s*(?:\\([^)]*\\)\\s*\\{|:\\s*(?:async\\s*)?(?:function|\\())`, 'm'),
  ];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) {
      // the body's brace: after the parameter list (defaults may hold braces) and any `=>`
      let from = m.index + m[0].length;
      const paren = text.lastIndexOf('(', from) >= m.index ? text.indexOf('(', m.index) : -1;
      if (paren >= 0 && paren < from) from = Math.max(from, matchParen(text, paren) + 1);
      const arrow = m[0].endsWith('=>') ? [''] : text.slice(from, from + 200).match(/^\s*(?::[^={]*)?=>/);
      if (arrow) {
        from += arrow[0].length;
        const rest = /^\s*([^{\s][^\n;]*)/.exec(text.slice(from));
        if (rest) return { start: m.index, line: lineOf(text, m.index), body: `{ return ${rest[1]}; }` };
      }
      const open = text.indexOf('{', from);
      if (open < 0) continue;
      return { start: m.index, line: lineOf(text, m.index), body: text.slice(open, matchBrace(text, open) + 1) };
    }
  }
  return null;
}

function matchParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      for (i += 1; i < text.length && text[i] !== c; i += 1) if (text[i] === '\\') i += 1;
      continue;
    }
    if (c === '(') depth += 1;
    else if (c === ')') { depth -= 1; if (depth === 0) return i; }
  }
  return text.length - 1;
}

// Index of the brace closing text[open], skipping strings, template literals and comments.
function matchBrace(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') { i = text.indexOf('\n', i); if (i < 0) return text.length - 1; continue; }
    if (c === '/' && text[i + 1] === '*') { i = text.indexOf('*/', i) + 1; if (i <= 0) return text.length - 1; continue; }
    if (c === '"' || c === "'" || c === '`') {
      for (i += 1; i < text.length && text[i] !== c; i += 1) if (text[i] === '\\') i += 1;
      continue;
    }
    if (c === '{') depth += 1;
    else if (c === '}') { depth -= 1; if (depth === 0) return i; }
  }
  return text.length - 1;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

// Is the file's gateway switch on? `isDbGatewayEnabled()` must end up reading USE_DB_GATEWAY.
function switchState(text, rel) {
  const fn = findFunction(text, 'isDbGatewayEnabled');
  if (!fn) return { on: /USE_DB_GATEWAY/.test(text) };
  const code = stripComments(fn.body);
  const firstReturn = /return\s+([^;\n]+)/.exec(code);
  if (firstReturn && /^(false|0|null|undefined)\s*$/.test(firstReturn[1].trim())) {
    return { on: false, why: `${rel}:${fn.line} isDbGatewayEnabled() returns ${firstReturn[1].trim()} (gateway branch switched off in code)` };
  }
  if (!/USE_DB_GATEWAY/.test(code)) {
    return { on: false, why: `${rel}:${fn.line} isDbGatewayEnabled() does not read USE_DB_GATEWAY` };
  }
  return { on: true };
}

function decide(root, entry) {
  const m = entry.mirrors;
  const rel = m.file;
  const mirrors = m.fn ? `${rel} ${m.fn}` : rel;
  const row = { entry, mirrors, routed: false, reason: null, unreachable: null };
  const file = path.join(root, rel);
  if (m.none) { row.reason = PREFIX + m.none; return row; }
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch {
    row.reason = `${PREFIX}${rel} is not in this checkout`;
    return row;
  }
  if (!m.fn) {
    const at = m.pattern ? text.indexOf(m.pattern) : -1;
    const where = at >= 0 ? `${rel}:${lineOf(text, at)}` : rel;
    row.reason = `${PREFIX}${where} calls the Mongoose model directly (no USE_DB_GATEWAY branch)`;
    return row;
  }
  const fn = findFunction(text, m.fn);
  if (!fn) { row.reason = `${PREFIX}${rel} has no function ${m.fn}`; return row; }
  row.mirrors = `${rel}:${fn.line} ${m.fn}`;
  const branchFnName = m.branchFn || m.fn;
  const branch = branchFnName === m.fn ? fn : findFunction(text, branchFnName);
  if (!branch) { row.reason = `${PREFIX}${rel} has no function ${branchFnName}`; return row; }
  const code = stripComments(branch.body);
  const usesSwitch = /isDbGatewayEnabled\s*\(\s*\)|USE_DB_GATEWAY/.test(code);
  if (!usesSwitch) {
    row.reason = `${PREFIX}${rel}:${branch.line} ${branchFnName} has no USE_DB_GATEWAY branch (Mongoose only)`;
    return row;
  }
  if (/if\s*\(\s*(?:false|0)\s*&&/.test(code) || /&&\s*false\s*\)/.test(code)) {
    row.reason = `${PREFIX}${rel}:${branch.line} ${branchFnName}'s gateway branch is switched off in code (if (false && …))`;
    return row;
  }
  const state = switchState(text, rel);
  if (!state.on) { row.reason = PREFIX + state.why; return row; }
  if (entry.unreachable) {
    row.routed = true;
    row.unreachable = entry.unreachable;
    row.reason = `gateway-routed (${rel}:${branch.line} ${branchFnName}) but not verifiable: ${entry.unreachable}`;
    return row;
  }
  if (!entry.gateway) {
    row.reason = `not verified: ${rel}:${branch.line} ${branchFnName} has a gateway branch the adapter's routing table does not mirror yet`;
    return row;
  }
  const missing = (entry.expect || []).filter((frag) => !code.includes(frag));
  if (missing.length) {
    row.reason = `not verified: ${rel}:${branch.line} ${branchFnName}'s gateway branch no longer calls ${missing.join(', ')} (the adapter's routing table does not match this checkout)`;
    return row;
  }
  row.routed = true;
  return row;
}

function routingTable(root, routes) {
  const table = {};
  for (const entry of routes) table[entry.op] = decide(root, entry);
  return table;
}

module.exports = { routingTable, findFunction };
