'use strict';
// PermissionService's ACL lookups and grants (data-schemas getUserPrincipals, aclEntry), as the
// oracle spells them (migrator/services/access/legacy.py, legacy_principals … legacy_grant_owner).
const { ObjectId } = require('mongodb');
const store = require('./db');
const { GatewayError } = require('./errors');
const { isNumeric, plain, pyTruthy } = require('./values');

const VIEW = 1;
const EDIT = 2;
const DELETE = 4;
const SHARE = 8;
// The access roles LibreChat seeds into `accessroles`; used when the collection has none.
const BUILTIN_ACCESS_ROLES = {
  agent_viewer: VIEW,
  agent_editor: VIEW | EDIT,
  agent_owner: VIEW | EDIT | DELETE | SHARE,
  promptGroup_viewer: VIEW,
  promptGroup_editor: VIEW | EDIT,
  promptGroup_owner: VIEW | EDIT | DELETE | SHARE,
};

// `new Types.ObjectId(value)`: null makes a new id; a value that is neither an ObjectId nor a
// 24-hex string throws.
function newObjectId(value) {
  if (value === null || value === undefined) return new ObjectId();
  if (value instanceof ObjectId) return value;
  if (typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value)) return ObjectId.createFromHexString(value);
  throw new GatewayError('InvalidId', `${JSON.stringify(String(value))} is not a valid ObjectId`);
}

// getUserPrincipals: user, role, groups (members listed by idOnTheSource or id hex), public.
async function principals(userId) {
  const uid = newObjectId(userId);
  const out = [{ principalType: 'user', principalId: uid }];
  const found = await store.findOne('users', { _id: uid }, { role: 1 });
  const role = found ? found.role : undefined;
  if (typeof role === 'string' && role.trim()) out.push({ principalType: 'role', principalId: role });
  const member = await store.findOne('users', { _id: uid }, { idOnTheSource: 1 });
  if (member !== null) {
    const memberId = pyTruthy(member.idOnTheSource) ? member.idOnTheSource : uid.toHexString();
    for (const group of await store.find('groups', { memberIds: memberId }, { projection: { _id: 1 } })) {
      out.push({ principalType: 'group', principalId: group._id });
    }
  }
  out.push({ principalType: 'public' });
  return out;
}

// PermissionService re-throws this one validation error (the list answers 500).
function checkRequiredPermission(required) {
  if (!isNumeric(required) || plain(required) < 1) {
    throw new GatewayError('ValueError', 'requiredPermissions must be a positive number');
  }
}

// findAccessibleResources: any failure after the validation is logged and answered with [].
async function accessible(userId, resourceType, required) {
  checkRequiredPermission(required);
  try {
    const alternatives = (await principals(userId)).map((p) =>
      p.principalType === 'public' ? { principalType: p.principalType } : { principalType: p.principalType, principalId: p.principalId },
    );
    // aclentries.principalId is Mixed: no cast, ObjectIds and role names as they are.
    return await store.distinct('aclentries', 'resourceId', {
      $or: alternatives,
      resourceType,
      permBits: { $bitsAllSet: required },
    });
  } catch (err) {
    return [];
  }
}

// findPubliclyAccessibleResources (VIEW); errors are logged and answered with [].
async function publicIds(resourceType) {
  try {
    return await store.distinct('aclentries', 'resourceId', {
      principalType: 'public',
      resourceType,
      permBits: { $bitsAllSet: VIEW },
    });
  } catch (err) {
    return [];
  }
}

// grantPermission with `<type>_owner`: an upsert of the user's entry; the controllers log a
// failure and carry on.
async function grantOwner(userId, resourceType, resourceId) {
  try {
    const accessRoleId = `${resourceType}_owner`;
    const role = await store.findOne('accessroles', { accessRoleId });
    const bits = pyTruthy(role) ? role.permBits : BUILTIN_ACCESS_ROLES[accessRoleId];
    const principal = newObjectId(userId);
    const now = new Date();
    const changes = { permBits: bits, grantedBy: principal, grantedAt: now, updatedAt: now };
    if (pyTruthy(role)) changes.roleId = role._id;
    await store.findOneAndUpdate(
      'aclentries',
      { principalType: 'user', resourceType, resourceId, principalId: principal, principalModel: 'User' },
      { $set: changes, $setOnInsert: { createdAt: now, __v: 0 } },
      { upsert: true },
    );
  } catch (err) {
    // logger.error('[createAgent] Failed to grant owner permissions ...')
  }
}

// Rows whose _id is among the public ids get isPublic: true (in place).
function markPublic(rows, ids) {
  const key = (v) => (v instanceof ObjectId ? `oid:${v.toHexString()}` : `${typeof v}:${String(v)}`);
  const pub = new Set(ids.map(key));
  for (const row of rows) if (row._id !== undefined && pub.has(key(row._id))) row.isPublic = true;
}

module.exports = { VIEW, newObjectId, principals, checkRequiredPermission, accessible, publicIds, grantOwner, markPublic };
