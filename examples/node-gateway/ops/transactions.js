// § numbers refer to docs/librechat.md.
'use strict';
// Transactions and balance: spend records, spend totals, the balance (docs/librechat.md §4.5;
// the oracle is migrator/services/transactions/legacy.py). Amounts keep the oracle's number types: an
// int stays an int (int32 / int64), anything multiplied by a fractional rate is a double.
const { ObjectId, Double } = require('mongodb');
const store = require('../lib/db');
const { GatewayError, castError } = require('../lib/errors');
const { oid, fromIsoFormat, materialize, DEFAULTS, SCHEMA_FIELDS } = require('../lib/mongoose');
const { need, plain, isFloat, pyInt, pyAdd, pyMul, pyNumber, pyTruthy, pyStr, entries } = require('../lib/values');

const CANCEL_RATE = new Double(1.15); // an incomplete completion costs 15 % more
// updateBalance's optimistic loop: 10 tries, 50 ms doubling to 2 s, plus up to 50 % jitter.
const MAX_RETRIES = 10;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;

// §4.5: USD per 1M tokens == credits per token; the longest key contained in the model wins.
// (Whole numbers are ints, as in the oracle's table.)
const DEFAULT_RATE = 6;
const TOKEN_RATES = {
  'gpt-4o': { prompt: 2.5, completion: 10 },
  'gpt-4o-mini': { prompt: 0.15, completion: 0.6 },
  'gpt-4.1': { prompt: 2, completion: 8 },
  'gpt-5': { prompt: 1.25, completion: 10 },
  'claude-3-5-sonnet': { prompt: 3, completion: 15 },
  'claude-sonnet-4': { prompt: 3, completion: 15 },
  'gemini-2.5-pro': { prompt: 1.25, completion: 10 },
  'gpt-4.1-mini': { prompt: 0.4, completion: 1.6 },
  'gpt-4.1-nano': { prompt: 0.1, completion: 0.4 },
  'gpt-5-mini': { prompt: 0.25, completion: 2 },
  o1: { prompt: 15, completion: 60 },
  o3: { prompt: 2, completion: 8 },
  'o3-mini': { prompt: 1.1, completion: 4.4 },
  'o4-mini': { prompt: 1.1, completion: 4.4 },
  'claude-3-haiku': { prompt: 0.25, completion: 1.25 },
  'claude-3-5-haiku': { prompt: 0.8, completion: 4 },
  'claude-3-7-sonnet': { prompt: 3, completion: 15 },
  'claude-opus-4': { prompt: 15, completion: 75 },
  'gemini-2.0-flash': { prompt: 0.1, completion: 0.4 },
  'gemini-2.5-flash': { prompt: 0.3, completion: 2.5 },
  'deepseek-chat': { prompt: 0.28, completion: 0.42 },
  'deepseek-reasoner': { prompt: 0.28, completion: 0.42 },
  llama3: { prompt: 0.3, completion: 0.6 },
  'llama3.1:8b': { prompt: 0.22, completion: 0.22 },
  'llama-3.3-70b': { prompt: 2.65, completion: 3.5 },
  'mistral-large': { prompt: 2, completion: 6 },
  'gpt-3.5': { prompt: 1.5, completion: 2 },
  'gpt-4-turbo': { prompt: 10, completion: 30 },
  'gpt-4': { prompt: 30, completion: 60 },
};

function valueKey(model) {
  if (!pyTruthy(model)) return null;
  let best = null;
  for (const key of Object.keys(TOKEN_RATES)) {
    if (String(model).includes(key) && (best === null || key.length > best.length)) best = key;
  }
  return best;
}

// Credits per token; no model or token type => 1, unknown model => DEFAULT_RATE.
function multiplier(model, tokenType) {
  if (!pyTruthy(model) || !pyTruthy(tokenType)) return 1;
  const key = valueKey(model);
  if (key === null) return DEFAULT_RATE;
  return TOKEN_RATES[key][tokenType] ?? DEFAULT_RATE;
}

// Mongoose's Date cast of a createdAt bound: strings through `new Date(str)`, an Invalid Date is
// a CastError; other values as they are.
function jsDate(value) {
  if (typeof value !== 'string') return value;
  let text = value.trim();
  if (text.endsWith('z')) text = `${text.slice(0, -1)}Z`;
  const parsed = fromIsoFormat(text);
  if (parsed === null) throw castError('createdAt', value, 'date');
  return parsed;
}

const reads = {
  // getTransactions({user[, createdAt: {$gte, $lt}]}): no sort in B (natural order).
  async 'transactions.by_user'(args) {
    const { start = null, end = null } = args;
    const query = { user: oid(need(args, 'user_id'), 'user') };
    const created = {};
    if (start !== null) created.$gte = jsDate(start);
    if (end !== null) created.$lt = jsDate(end);
    if (Object.keys(created).length) query.createdAt = created;
    return store.find('transactions', query);
  },

  // One user's spend per token type. Aggregations are not cast: the id is converted here.
  async 'transactions.spend_by_user'(args) {
    return store.aggregate('transactions', [
      { $match: { user: oid(need(args, 'user_id'), 'user') } },
      { $group: { _id: { tokenType: '$tokenType' }, tokens: { $sum: '$rawAmount' }, credits: { $sum: '$tokenValue' } } },
      { $sort: { '_id.tokenType': 1 } },
    ]);
  },

  // One user's spend per model and token type.
  async 'transactions.spend_by_model'(args) {
    return store.aggregate('transactions', [
      { $match: { user: oid(need(args, 'user_id'), 'user') } },
      {
        $group: {
          _id: { model: '$model', tokenType: '$tokenType' },
          tokens: { $sum: '$rawAmount' },
          credits: { $sum: '$tokenValue' },
        },
      },
      { $sort: { '_id.model': 1, '_id.tokenType': 1 } },
    ]);
  },

  // checkBalanceRecord: Balance.findOne({user}), its tokenCredits, 0 without a record.
  async 'transactions.balance'(args) {
    const doc = await store.findOne('balances', { user: oid(need(args, 'user_id'), 'user') });
    return doc === null ? 0 : doc.tokenCredits ?? null;
  },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function backoff(attempt, delay) {
  if (attempt < MAX_RETRIES) {
    await sleep(delay + Math.random() * delay * 0.5);
    return Math.min(delay * 2, MAX_DELAY_MS);
  }
  return delay;
}

// max(0, x) as Python computes it: the int 0 unless x is greater.
function atLeastZero(x) {
  return plain(x) > 0 ? x : 0;
}

// updateBalance: optimistic read-then-compare-and-set on tokenCredits, never below 0; without a
// balance document it upserts one (schema defaults via $setOnInsert, __v: 0).
async function updateBalance(user, increment) {
  const balances = await store.coll('balances');
  let delay = FIRST_DELAY_MS;
  let lastError = null;
  for (let attempt = 1; attempt <= MAX_RETRIES; attempt += 1) {
    try {
      const current = await store.findOne('balances', { user });
      if (current !== null && !('tokenCredits' in current)) throw new GatewayError('KeyError', "'tokenCredits'");
      const credits = current !== null ? current.tokenCredits : 0;
      const set = { tokenCredits: atLeastZero(pyAdd(credits, increment)) };
      let updated;
      if (current !== null) {
        updated = await store.findOneAndUpdate('balances', { user, tokenCredits: credits }, { $set: set });
        if (updated !== null) return updated;
        lastError = new GatewayError('RuntimeError', `Concurrency conflict for user ${pyStr(user)} (${attempt})`);
      } else {
        const insert = {};
        for (const [key, value] of Object.entries(materialize(DEFAULTS.balances, new Date()))) {
          if (!(key in set)) insert[key] = value;
        }
        updated = await store.findOneAndUpdate(
          'balances',
          { user },
          { $set: set, $setOnInsert: { ...insert, __v: 0 } },
          { upsert: true },
        );
        if (updated !== null) return updated;
        lastError = new GatewayError('RuntimeError', `Upsert race suspected for user ${pyStr(user)} (${attempt})`);
      }
    } catch (err) {
      lastError = err; // B logs every failure (E11000 included) and retries
    }
    delay = await backoff(attempt, delay);
  }
  throw lastError || new GatewayError('RuntimeError', `Failed to update balance for user ${pyStr(user)}`);
}

// new Transaction(txData) + calculateTokenValue: strict, `user` cast, timestamps, __v.
function txDocument(data, now) {
  const doc = { _id: new ObjectId() };
  for (const [key, value] of entries(data)) {
    if (SCHEMA_FIELDS.transactions.has(key) && key !== '_id') doc[key] = value;
  }
  doc.user = oid(doc.user ?? null, 'user');
  const rawRate = Math.abs(multiplier(doc.model, doc.tokenType));
  let rate = pyNumber(rawRate, !Number.isInteger(rawRate));
  if (doc.rawAmount === undefined || doc.rawAmount === null) {
    throw new GatewayError('TypeError', "unsupported operand type(s) for *: 'NoneType' and 'int'");
  }
  let value = pyMul(doc.rawAmount, rate);
  if (doc.context === 'incomplete' && doc.tokenType === 'completion') {
    // ceil rounds towards +inf: -5744.25 -> -5744
    value = pyInt(Math.ceil(plain(pyMul(value, CANCEL_RATE))));
    rate = pyMul(rate, CANCEL_RATE);
  }
  doc.rate = rate;
  doc.tokenValue = value;
  if (doc.createdAt === undefined) doc.createdAt = now;
  doc.updatedAt = doc.createdAt;
  doc.__v = 0;
  return doc;
}

// createTransaction: always inserted (unless transactions.enabled === false or a NaN amount);
// the balance moves only when balance.enabled. B's {rate, user, balance, [tokenType]: value}.
async function createTransaction(data) {
  const txData = { ...data };
  const balanceConfig = pyTruthy(txData.balance) ? txData.balance : {};
  const transactionsConfig = pyTruthy(txData.transactions) ? txData.transactions : {};
  delete txData.balance;
  delete txData.transactions;
  const raw = txData.rawAmount;
  if (raw !== undefined && raw !== null && isFloat(raw) && Number.isNaN(plain(raw))) return null;
  if (transactionsConfig.enabled === false) return null;
  const doc = txDocument(txData, new Date());
  await (await store.coll('transactions')).insertOne(doc);
  if (!pyTruthy(balanceConfig.enabled)) return null;
  const increment = doc.tokenValue;
  const updated = await updateBalance(doc.user, increment);
  if (!('tokenType' in doc)) throw new GatewayError('KeyError', "'tokenType'");
  return { rate: doc.rate, user: pyStr(doc.user), balance: updated.tokenCredits, [doc.tokenType]: increment };
}

// spendTokens: `promptTokens === 0 ? 0 : -Math.max(promptTokens, 0)`.
function spent(tokens) {
  if (plain(tokens) === 0 || plain(tokens) < 0) return 0; // -max(tokens, 0): the int 0
  return pyNumber(-plain(tokens), isFloat(tokens));
}

const writes = {
  async 'transactions.create_transaction'(args) {
    return createTransaction(need(args, 'data'));
  },

  // spendTokens(txData, {promptTokens, completionTokens}): a prompt then a completion
  // transaction for each defined amount; errors are logged and swallowed.
  async 'transactions.spend_tokens'(args) {
    const txData = need(args, 'tx_data');
    const { prompt_tokens: promptTokens = null, completion_tokens: completionTokens = null } = args;
    let prompt = null;
    let completion = null;
    try {
      if (promptTokens !== null) {
        prompt = await createTransaction({ ...txData, tokenType: 'prompt', rawAmount: spent(promptTokens) });
      }
      if (completionTokens !== null) {
        completion = await createTransaction({ ...txData, tokenType: 'completion', rawAmount: spent(completionTokens) });
      }
    } catch (err) {
      // spendTokens logs every error and swallows it
    }
    return { prompt, completion };
  },
};

module.exports = { reads, writes, multiplier, createTransaction };
