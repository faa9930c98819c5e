'use strict';
// Prompts: the ACL-filtered group list, one group, a group's prompts, create a group
// (docs/librechat.md §4.7; the oracle is migrator/services/prompts/legacy.py; the package's
// docstring gives the shapes returned).
const { BSONRegExp } = require('mongodb');
const store = require('../lib/db');
const { GatewayError } = require('../lib/errors');
const { oid, castFilter, DEFAULTS } = require('../lib/mongoose');
const { need, jsTruthy, isDict } = require('../lib/values');
const { jsParseInt, jsString, normalizeLimit, legacyCursor, legacyJsDate, page } = require('../lib/js');
const acl = require('../lib/acl');

// librechat-data-provider SystemCategories
const MY_PROMPTS = 'sys__my__prompts__sys';
const NO_CATEGORY = 'sys__no__category__sys';
const SHARED_PROMPTS = 'sys__shared__prompts__sys';
const GROUP_PROJECTION = {
  name: 1, numberOfGenerations: 1, oneliner: 1, category: 1, projectIds: 1, productionId: 1,
  author: 1, authorName: 1, createdAt: 1, updatedAt: 1, 'productionPrompt.prompt': 1,
};

// str.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// buildPromptGroupFilter: {filter, searchShared, searchSharedOnly}.
function buildFilter(name, category) {
  const query = {};
  let searchShared = true;
  let sharedOnly = false;
  if (jsTruthy(name)) query.name = new BSONRegExp(escapeRegExp(jsString(name)), 'i');
  if (category === MY_PROMPTS) searchShared = false;
  else if (category === NO_CATEGORY) query.category = '';
  else if (category === SHARED_PROMPTS) sharedOnly = true;
  else if (jsTruthy(category)) query.category = category;
  return { query, searchShared, sharedOnly };
}

// filterAccessibleIdsBySharedLogic: "My prompts" drops every public group; the default list is
// accessible + public (duplicates kept).
function filterIds(accessibleIds, searchShared, sharedOnly, pub) {
  const pubSet = new Set(pub.map(String));
  if (!searchShared) return accessibleIds.filter((i) => !pubSet.has(String(i)));
  if (sharedOnly) {
    if (!pub.length) return [];
    const accessibleSet = new Set(accessibleIds.map(String));
    return pub.filter((i) => accessibleSet.has(String(i)));
  }
  return [...accessibleIds, ...pub];
}

// getListPromptGroupsByAccess: an aggregation (not cast): $match ids + filter (+ cursor), $sort,
// $limit n + 1, $lookup of the production prompt, $unwind (preserve), $project.
async function listByAccess(ids, other, limit, after) {
  const n = normalizeLimit(limit);
  let match = { ...other, _id: { $in: [...ids] } };
  const decoded = legacyCursor(after);
  if (decoded !== null) {
    // Not cast: an Invalid Date reaches the driver, whose serialiser writes it as the epoch.
    const when = legacyJsDate(decoded.updatedAt) || new Date(0);
    match = { $and: [match, { $or: [{ updatedAt: { $lt: when } }, { updatedAt: when, _id: { $gt: decoded.id } }] }] };
  }
  const pipeline = [{ $match: match }, { $sort: { updatedAt: -1, _id: 1 } }];
  if (n !== null) pipeline.push({ $limit: n + 1 });
  pipeline.push(
    { $lookup: { from: 'prompts', localField: 'productionId', foreignField: '_id', as: 'productionPrompt' } },
    { $unwind: { path: '$productionPrompt', preserveNullAndEmptyArrays: true } },
    { $project: GROUP_PROJECTION },
  );
  const { data, hasMore, after: next } = page(await store.aggregate('promptgroups', pipeline), n);
  for (const group of data) if (jsTruthy(group.author)) group.author = group.author.toString();
  return { data, hasMore, after: next };
}

const reads = {
  // GET /api/prompts/groups: ACL ids (VIEW) + public ids by the category's sharing rule, one
  // page, public groups flagged; formatPromptGroupsResponse.
  async 'prompts.groups_list'(args) {
    const { limit = null, page_size: pageSize = null, cursor = null, name = null, category = null } = args;
    const { query, searchShared, sharedOnly } = buildFilter(name, category);
    // if (pageSize && !limit) actualLimit = parseInt(pageSize, 10)
    const actualLimit = jsTruthy(pageSize) && !jsTruthy(limit) ? jsParseInt(pageSize, 10) : limit;
    let actualCursor = jsTruthy(cursor) ? cursor : null;
    if (actualCursor === 'undefined' || actualCursor === 'null') actualCursor = null;
    const ids = await acl.accessible(need(args, 'user_id'), 'promptGroup', acl.VIEW);
    const pub = await acl.publicIds('promptGroup');
    const result = await listByAccess(filterIds(ids, searchShared, sharedOnly, pub), query, actualLimit, actualCursor);
    acl.markPublic(result.data, pub);
    if (actualLimit === null) throw new GatewayError('TypeError', "Cannot read properties of undefined (reading 'toString')");
    return {
      promptGroups: result.data,
      pageNumber: '1',
      pageSize: jsString(actualLimit) || '10',
      pages: result.hasMore ? '9999' : '1',
      has_more: result.hasMore,
      after: result.after,
    };
  },

  // getPromptGroup({_id}): errors become a message. No author filter (the route checks the ACL).
  async 'prompts.get_group'(args) {
    try {
      return await store.findOne('promptgroups', { _id: oid(need(args, 'group_id')) });
    } catch (err) {
      return { message: 'Error getting prompt group' };
    }
  },

  // getPrompts({groupId}): createdAt desc; errors become a message.
  async 'prompts.prompts_of_group'(args) {
    try {
      return await store.find('prompts', { groupId: oid(need(args, 'group_id'), 'groupId') }, { sort: { createdAt: -1 } });
    } catch (err) {
      return { message: 'Error getting prompts' };
    }
  },
};

const HIDE_V = { __v: 0 };

const writes = {
  // POST /api/prompts: createPromptGroup (group upsert with productionId null — which reuses an
  // interrupted earlier creation with the same fields —, prompt upsert, productionId update),
  // every failure wrapped in 'Error saving prompt group'; then the owner ACL entry.
  async 'prompts.create_prompt_group'(args) {
    const userId = need(args, 'user_id');
    const authorName = need(args, 'author_name');
    const prompt = need(args, 'prompt');
    const group = need(args, 'group');
    if (!jsTruthy(prompt) || !jsTruthy(group) || !jsTruthy(isDict(group) ? group.name : undefined)) {
      throw new GatewayError('ValueError', 'Prompt and group name are required');
    }
    let newGroup;
    let newPrompt;
    try {
      let now = new Date();
      const author = oid(userId, 'author');
      // The filter is cast with `upsert`: a key outside the schema is a StrictModeError
      // (mongoose lib/cast.js lines 301-306), answered as the generic save error below.
      const fields = castFilter(
        'promptgroups', { ...group, author, authorName, productionId: null }, { upsert: true },
      );
      const defaults = Object.fromEntries(Object.entries(DEFAULTS.promptgroups).filter(([k]) => !(k in fields)));
      const insert = { ...structured(defaults), ...fields, createdAt: now, __v: 0 };
      newGroup = await store.findOneAndUpdate(
        'promptgroups', fields, { $setOnInsert: insert, $set: { updatedAt: now } }, { projection: HIDE_V, upsert: true },
      );
      const promptFields = castFilter('prompts', { ...prompt, author, groupId: newGroup._id }, { upsert: true });
      now = new Date();
      newPrompt = await store.findOneAndUpdate(
        'prompts',
        promptFields,
        { $setOnInsert: { ...promptFields, createdAt: now, __v: 0 }, $set: { updatedAt: now } },
        { projection: HIDE_V, upsert: true },
      );
      newGroup = await store.findOneAndUpdate(
        'promptgroups',
        { _id: newGroup._id },
        { $set: { productionId: newPrompt._id, updatedAt: new Date() } },
        { projection: HIDE_V },
      );
    } catch (err) {
      throw new GatewayError('PromptGroupSaveError', 'Error saving prompt group');
    }
    if (newGroup === null) throw new GatewayError('TypeError', "'NoneType' object is not a mapping");
    const result = {
      prompt: newPrompt,
      group: { ...newGroup, productionPrompt: { prompt: newPrompt.prompt ?? null } },
    };
    if (jsTruthy(newPrompt._id) && jsTruthy(newPrompt.groupId)) {
      await acl.grantOwner(userId, 'promptGroup', newPrompt.groupId);
    }
    return result;
  },
};

function structured(obj) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
}

module.exports = { reads, writes };
