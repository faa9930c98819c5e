// The routing table: one entry per migrator catalog operation (migrator/services/<area>/).
//
// Each entry names the LibreChat function it mirrors (`mirrors`: file relative to the checkout,
// function, and the call site whose arguments it reproduces). Whether LibreChat sends it through
// the gateway is NOT declared here: adapter.js reads that function (or `branchFn`, the one whose
// USE_DB_GATEWAY switch decides) in the checkout and finds its gateway branch, switched on or off.
//
//   gateway(h, a)  what the function's USE_DB_GATEWAY=true branch calls, with the same arguments
//                  and options (select / lean / sort), on the checkout's repositories: h.repo(name)
//   legacy(h, a)   what its old branch does (USE_DB_GATEWAY off) with the checkout's own Mongoose
//                  models (h.models) — the third opinion; absent where not transcribed
//   expect         source fragments the function's gateway branch must contain for `gateway` to
//                  be a faithful mirror; a checkout whose branch differs is reported, not guessed
//   unreachable    why a routed operation cannot be driven from the tool's inputs
//
// `a` holds the operation's arguments by the Python keyword names; h.plain() turns Mongoose
// documents into plain objects with BSON values.
'use strict';

const USER_JWT_SELECT = '-password -__v -totpSecret -backupCodes';
const HIDDEN_USER = ['password', 'totpSecret', 'backupCodes'];
const CONVO_LIST_SELECT =
  'conversationId endpoint title createdAt updatedAt user model agent_id assistant_id spec iconURL';
const BALANCE_FIELDS =
  'tokenCredits autoRefillEnabled refillIntervalValue refillIntervalUnit lastRefill refillAmount';
const REFILL_FIELDS = ['refillIntervalValue', 'refillIntervalUnit', 'lastRefill', 'refillAmount'];
const TEMP_CHAT_RETENTION_MS = 720 * 3600 * 1000; // createTempChatExpirationDate's default

const owner = (u) => (u === undefined || u === null ? u : String(u)); // req.user.id is a string
const strip = (doc, keys) => {
  if (doc && typeof doc === 'object') for (const k of keys) delete doc[k];
  return doc;
};
const convoReq = (a) => ({ user: { id: owner(a.user) }, body: { isTemporary: a.is_temporary } });

// The fork's conversationOperations.saveConvo gateway branch (conversationOperations.js:98-141).
async function saveConvoGateway(h, req, convoData) {
  try {
    const convoRepo = await h.repo('Conversation');
    const { conversationId, newConversationId, ...update } = convoData;
    // MessageOps.getMessages: the message branch of that checkout decides (old branch here).
    update.messages = await h.models.Message.find({ conversationId })
      .select('messageId').sort({ createdAt: 1 }).lean();
    update.user = req.user.id;
    update.conversationId = newConversationId || conversationId;
    update.expiredAt = req.body.isTemporary ? new Date(Date.now() + TEMP_CHAT_RETENTION_MS) : null;
    return await convoRepo.model.findOneAndUpdate(
      { conversationId: update.conversationId, user: req.user.id },
      { $set: update },
      { new: true, upsert: true, lean: true },
    );
  } catch (error) {
    h.log(`[saveConvo] Error saving conversation: ${error && error.message}`);
    return { ...convoData, user: req.user.id, message: 'Error saving conversation' };
  }
}

// Which LibreChat file/function each area's operations live in.
const USER_OPS = 'api/models/userOperations.js';
const DB_OPS = 'api/models/dbOperations.js';
const CONVO_OPS = 'api/models/conversationOperations.js';
const MSG_OPS = 'api/models/messageOperations.js';
const FILE_OPS = 'api/models/fileOperations.js';
const SESSION_METHODS = 'packages/data-schemas/src/methods/session.ts';

const ROUTES = [
  // --- auth ---------------------------------------------------------------------------------
  {
    op: 'auth.get_user_by_id',
    mirrors: { file: USER_OPS, fn: 'getUserById', caller: `api/strategies/jwtStrategy.js: getUserById(payload.id, '${USER_JWT_SELECT}')` },
    expect: ["getRepository('User')", '.findById('],
    gateway: async (h, a) => (await h.repo('User')).findById(a.user_id, { select: USER_JWT_SELECT }),
    legacy: (h, a) => h.models.User.findById(a.user_id).select(USER_JWT_SELECT).lean(),
  },
  {
    op: 'auth.find_user_by_email',
    mirrors: { file: USER_OPS, fn: 'findUser', caller: 'api/strategies/socialLogin.js: findUser({ email: email.trim() })' },
    expect: ["getRepository('User')", '.findOne(searchCriteria'],
    gateway: async (h, a) => (await h.repo('User')).findOne({ email: a.email.trim() }, {}),
    legacy: (h, a) => h.models.User.findOne({ email: a.email.trim() }).lean(),
  },
  {
    op: 'auth.find_user_for_openid',
    mirrors: { file: USER_OPS, fn: 'findUser', caller: 'api/strategies/openidStrategy.js: findUser({ openidId }), then findUser({ email })' },
    expect: ["getRepository('User')", '.findOne(searchCriteria'],
    gateway: async (h, a) => {
      const repo = await h.repo('User');
      return (await repo.findOne({ openidId: a.openid_id }, {})) ??
        repo.findOne({ email: a.email.trim() }, {});
    },
    legacy: async (h, a) =>
      (await h.models.User.findOne({ openidId: a.openid_id }).lean()) ??
      h.models.User.findOne({ email: a.email.trim() }).lean(),
  },
  {
    op: 'auth.count_users',
    mirrors: { file: USER_OPS, fn: 'countUsers', caller: 'AuthService.registerUser: countUsers()' },
    expect: ["getRepository('User')", '.count('],
    gateway: async (h) => (await h.repo('User')).count({}),
    legacy: (h) => h.models.User.countDocuments({}),
  },
  {
    op: 'auth.find_session',
    mirrors: { file: DB_OPS, fn: 'findSession', caller: 'api/server/services/AuthService.js refresh: findSession({ userId, refreshToken })' },
    expect: ["getRepository('Session')", '.findSession('],
    unreachable: "LibreChat's gateway Session.findSession hashes the raw refresh token; the database (and so the tool's inputs) holds only the hash",
    legacy: (h, a) => h.models.Session.findOne({
      refreshTokenHash: a.refresh_token_hash, user: a.user_id, expiration: { $gt: a.now },
    }).lean(),
  },
  {
    op: 'auth.count_active_sessions',
    mirrors: { file: SESSION_METHODS, fn: 'countActiveSessions', caller: 'data-schemas session methods (api/models/index.js ...methods)' },
    legacy: (h, a) => h.models.Session.countDocuments({ user: a.user_id, expiration: { $gt: a.now } }),
  },
  {
    op: 'auth.find_token',
    mirrors: { file: DB_OPS, fn: 'findToken', caller: 'AuthService (verify email, reset password): findToken(query)' },
    expect: ["getRepository('Token')", '.findToken('],
    gateway: async (h, a) => {
      const query = {};
      for (const k of ['userId', 'token', 'email', 'type', 'identifier']) if (a[k] != null) query[k] = a[k];
      return (await h.repo('Token')).findToken(query);
    },
    legacy: (h, a) => {
      const parts = [];
      for (const k of ['userId', 'token', 'email', 'type', 'identifier']) if (a[k] != null) parts.push({ [k]: a[k] });
      return h.models.Token.findOne({ $and: parts }).lean();
    },
  },
  {
    op: 'auth.get_balance',
    mirrors: { file: 'api/server/controllers/Balance.js', fn: 'balanceController', caller: 'GET /api/balance' },
    legacy: async (h, a) => {
      const doc = await h.models.Balance.findOne({ user: a.user_id }, `${BALANCE_FIELDS} -_id`).lean();
      if (doc && !doc.autoRefillEnabled) strip(doc, REFILL_FIELDS);
      return doc;
    },
  },
  {
    op: 'auth.create_user',
    mirrors: { file: USER_OPS, fn: 'createUser', caller: 'social sign-up: createUser(data, { enabled: true, startBalance }, true, true)' },
    expect: ["getRepository('User')", '.create(data)', 'Balance.findOneAndUpdate'],
    gateway: async (h, a) => {
      const data = { ...a.data, email: a.data.email?.toLowerCase(), username: a.data.username?.toLowerCase() };
      const user = await (await h.repo('User')).create(data);
      if (a.start_balance) {
        await h.models.Balance.findOneAndUpdate(
          { user: user._id }, { $inc: { tokenCredits: a.start_balance } }, { upsert: true, new: true },
        ).lean();
      }
      return strip(h.plain(user), HIDDEN_USER);
    },
  },
  {
    op: 'auth.update_user',
    mirrors: { file: USER_OPS, fn: 'updateUser', caller: 'updateUser(userId, data)' },
    expect: ["getRepository('User')", '.update(userId, data)'],
    gateway: async (h, a) => {
      const data = { ...a.data };
      if (data.email) data.email = data.email.toLowerCase();
      if (data.username) data.username = data.username.toLowerCase();
      return (await h.repo('User')).update(a.user_id, data);
    },
    legacy: (h, a) => {
      const data = { ...a.data };
      if (data.email) data.email = data.email.toLowerCase();
      if (data.username) data.username = data.username.toLowerCase();
      return h.models.User.findByIdAndUpdate(a.user_id, { $set: data, $unset: { expiresAt: '' } },
        { new: true, runValidators: true }).lean();
    },
  },
  {
    op: 'auth.create_session',
    mirrors: { file: DB_OPS, fn: 'createSession', caller: 'AuthService.setAuthTokens: createSession(userId)' },
  },
  {
    op: 'auth.refresh_session',
    mirrors: { file: DB_OPS, fn: 'findSession', caller: 'AuthService.setAuthTokens(userId, res, sessionId): findSession({ sessionId }, { lean: false }) then save()' },
    expect: ["getRepository('Session')", '.findSession('],
    unreachable: 'the refresh signs a new JWT and stores its hash; the tool supplies the new hash, which LibreChat cannot be given',
  },
  {
    op: 'auth.delete_session',
    mirrors: { file: DB_OPS, fn: 'deleteSession', caller: 'logout: deleteSession({ refreshToken })' },
    expect: ["getRepository('Session')", '.deleteSession('],
    unreachable: "LibreChat's gateway Session.deleteSession hashes the raw refresh token; the tool's inputs hold only the hash",
    legacy: async (h, a) => (await h.models.Session.deleteOne({ refreshTokenHash: a.refresh_token_hash })).deletedCount,
  },
  {
    op: 'auth.delete_other_sessions',
    mirrors: { file: SESSION_METHODS, fn: 'deleteAllUserSessions', caller: 'logout everywhere else' },
  },

  // --- conversations ------------------------------------------------------------------------
  {
    op: 'conversations.list_page',
    mirrors: { file: CONVO_OPS, fn: 'getConvosByCursor', caller: 'GET /api/convos: getConvosByCursor(req.user.id, { cursor, limit, isArchived, tags, order })' },
    expect: ["getRepository('Conversation')", '.getConvosByCursor('],
    gateway: async (h, a) => (await h.repo('Conversation')).getConvosByCursor(owner(a.user), {
      cursor: a.cursor ?? undefined, limit: a.limit ?? 25, isArchived: a.is_archived ?? false,
      tags: a.tags ?? undefined, order: a.order ?? 'desc',
    }),
  },
  {
    op: 'conversations.get',
    mirrors: { file: CONVO_OPS, fn: 'getConvo', caller: 'getConvo(req.user.id, conversationId)' },
    expect: ["getRepository('Conversation')", '.getConvo('],
    gateway: async (h, a) => (await h.repo('Conversation')).getConvo(owner(a.user), a.conversation_id),
    legacy: (h, a) => h.models.Conversation.findOne({ user: owner(a.user), conversationId: a.conversation_id }).lean(),
  },
  {
    op: 'conversations.find_owner',
    mirrors: { file: CONVO_OPS, fn: 'searchConversation', caller: 'validateConvoAccess middleware: searchConversation(conversationId)' },
    expect: ["getRepository('Conversation')", "select: 'conversationId user'"],
    gateway: async (h, a) => (await h.repo('Conversation')).findOne(
      { conversationId: a.conversation_id }, { select: 'conversationId user' }),
    legacy: (h, a) => h.models.Conversation.findOne({ conversationId: a.conversation_id }, 'conversationId user').lean(),
  },
  {
    op: 'conversations.files',
    mirrors: { file: CONVO_OPS, fn: 'getConvoFiles', caller: 'api/server/services/Endpoints/agents/agent.js: getConvoFiles(conversationId) — one argument into (userId, conversationId)' },
    expect: ["getRepository('Conversation')", '.getConvoFiles('],
    gateway: async (h, a) => (await h.repo('Conversation')).getConvoFiles(a.conversation_id, undefined),
    legacy: async (h, a) =>
      (await h.models.Conversation.findOne({ conversationId: a.conversation_id }, 'files').lean())?.files ?? [],
  },
  {
    op: 'conversations.count_by_user',
    mirrors: { file: 'config/user-stats.js', fn: null, pattern: 'Conversation.countDocuments', caller: 'config/user-stats.js' },
    legacy: (h, a) => h.models.Conversation.countDocuments({ user: a.user }),
  },
  {
    op: 'conversations.save',
    mirrors: { file: CONVO_OPS, fn: 'saveConvo', caller: 'BaseClient: saveConvo(req, { conversationId, newConversationId, ...convo }, { unsetFields })' },
    expect: ["getRepository('Conversation')", 'convoRepo.model.findOneAndUpdate', '$set: update'],
    gateway: (h, a) => saveConvoGateway(h, convoReq(a), { ...a.conversation }),
  },
  {
    op: 'conversations.archive',
    mirrors: { file: CONVO_OPS, fn: 'saveConvo', caller: 'POST /api/convos/update: saveConvo(req, { conversationId, isArchived })' },
    expect: ["getRepository('Conversation')", 'convoRepo.model.findOneAndUpdate', '$set: update'],
    gateway: (h, a) => saveConvoGateway(h, convoReq(a),
      { conversationId: a.conversation_id, isArchived: a.is_archived }),
  },
  {
    op: 'conversations.rename',
    mirrors: { file: CONVO_OPS, fn: 'saveConvo', caller: 'POST /api/convos/update: saveConvo(req, { conversationId, title })' },
    expect: ["getRepository('Conversation')", 'convoRepo.model.findOneAndUpdate', '$set: update'],
    gateway: (h, a) => saveConvoGateway(h, convoReq(a), { conversationId: a.conversation_id, title: a.title }),
  },
  {
    op: 'conversations.delete',
    mirrors: { file: CONVO_OPS, fn: 'deleteConvos', caller: 'DELETE /api/convos: deleteConvos(req.user.id, filter)' },
    expect: ["getRepository('Conversation')", '.deleteConvos('],
    gateway: async (h, a) => (await h.repo('Conversation')).deleteConvos(owner(a.user), a.filter),
  },
  {
    op: 'conversations.bulk_save',
    mirrors: { file: CONVO_OPS, fn: 'bulkSaveConvos', caller: 'importers / fork: bulkSaveConvos(conversations)' },
    expect: ["getRepository('Conversation')", '.bulkSaveConvos('],
    gateway: async (h, a) => h.bulkResult(await (await h.repo('Conversation')).bulkSaveConvos(a.conversations)),
  },

  // --- messages -----------------------------------------------------------------------------
  {
    op: 'messages.by_conversation',
    mirrors: { file: MSG_OPS, fn: 'getMessages', caller: "GET /api/messages/:conversationId: getMessages({ conversationId }, '-_id -__v -user')" },
    expect: ["getRepository('Message')", '.find(filter, options)'],
    gateway: async (h, a) => (await h.repo('Message')).find({ conversationId: a.conversation_id }, { select: '-_id -__v -user' }),
    legacy: (h, a) => h.models.Message.find({ conversationId: a.conversation_id })
      .select('-_id -__v -user').sort({ createdAt: 1 }).lean(),
  },
  {
    op: 'messages.list_page',
    mirrors: { file: MSG_OPS, fn: 'getMessages', caller: 'GET /api/messages?conversationId= (paged)' },
  },
  {
    op: 'messages.get_one',
    mirrors: { file: MSG_OPS, fn: 'getMessage', caller: 'GET /api/messages?conversationId&messageId' },
    legacy: async (h, a) => {
      const found = await h.models.Message.findOne({
        conversationId: a.conversation_id, messageId: a.message_id, user: owner(a.user),
      }).lean();
      return { messages: found ? [found] : [], nextCursor: null };
    },
  },
  {
    op: 'messages.count_by_conversation',
    mirrors: { file: MSG_OPS, fn: 'getMessages', caller: 'the conversation load (counted)' },
    legacy: (h, a) => h.models.Message.countDocuments({ conversationId: a.conversation_id }),
  },
  {
    op: 'messages.count_by_user',
    mirrors: { file: 'config/user-stats.js', fn: null, pattern: 'Message.countDocuments', caller: 'config/user-stats.js' },
    legacy: (h, a) => h.models.Message.countDocuments({ user: a.user }),
  },
  { op: 'messages.save', mirrors: { file: MSG_OPS, fn: 'saveMessage', caller: 'BaseClient: saveMessage(req, params, metadata)' } },
  {
    op: 'messages.update_text',
    mirrors: { file: MSG_OPS, fn: 'updateMessageText', caller: 'updateMessageText(req, { messageId, text })' },
  },
  { op: 'messages.delete_since', mirrors: { file: MSG_OPS, fn: 'deleteMessagesSince', caller: 'edit / regenerate' } },
  { op: 'messages.bulk_save', mirrors: { file: MSG_OPS, fn: 'bulkSaveMessages', caller: 'importers / fork' } },

  // --- files --------------------------------------------------------------------------------
  {
    op: 'files.list_for_user',
    mirrors: { file: FILE_OPS, fn: 'getFiles', caller: 'GET /api/files: getFiles({ user: req.user.id })' },
    expect: ["getRepository('File')", 'fileRepo.find(filter, options)'],
    gateway: async (h, a) => (await h.repo('File')).find({ user: a.user_id }, { select: { text: 0 }, sort: { updatedAt: -1 } }),
    legacy: (h, a) => h.models.File.find({ user: a.user_id }).select({ text: 0 }).sort({ updatedAt: -1 }).lean(),
  },
  {
    op: 'files.by_ids',
    mirrors: { file: FILE_OPS, fn: 'getFiles', caller: 'DELETE /api/files: getFiles({ file_id: { $in: ids } })' },
    expect: ["getRepository('File')", 'fileRepo.find(filter, options)'],
    gateway: async (h, a) => (await h.repo('File')).find({ file_id: { $in: a.file_ids } }, { select: { text: 0 }, sort: { updatedAt: -1 } }),
    legacy: (h, a) => h.models.File.find({ file_id: { $in: a.file_ids } }).select({ text: 0 }).sort({ updatedAt: -1 }).lean(),
  },
  {
    op: 'files.tool_files_by_ids',
    mirrors: { file: FILE_OPS, fn: 'getToolFilesByIds', branchFn: 'getFiles', caller: 'agents: getToolFilesByIds(fileIds, toolResourceSet) → getFiles' },
    expect: ["getRepository('File')", 'fileRepo.find(filter, options)'],
    gateway: async (h, a) => h.toolFiles(a, async (filter) => (await h.repo('File')).find(filter, { select: { text: 0 }, sort: { updatedAt: -1 } })),
    legacy: (h, a) => h.toolFiles(a, (filter) => h.models.File.find(filter).select({ text: 0 }).sort({ updatedAt: -1 }).lean()),
  },
  {
    op: 'files.find_by_file_id',
    mirrors: { file: FILE_OPS, fn: 'findFileById', caller: 'findFileById(file_id, options)' },
    expect: ["getRepository('File')", '.findOne({ file_id, ...options })'],
    gateway: async (h, a) => (await h.repo('File')).findOne({ file_id: a.file_id, ...(a.extra || {}) }),
    legacy: (h, a) => h.models.File.findOne({ file_id: a.file_id, ...(a.extra || {}) }).lean(),
  },
  {
    op: 'files.create',
    mirrors: { file: FILE_OPS, fn: 'createFile', caller: 'uploads: createFile(data, disableTTL)' },
    expect: ["getRepository('File')", 'fileRepo.update({ file_id: data.file_id }, fileData)', 'fileRepo.create(fileData)'],
    gateway: async (h, a) => {
      const fileData = { ...a.data, expiresAt: new Date(Date.now() + 3600 * 1000) };
      if (a.disable_ttl) delete fileData.expiresAt;
      const fileRepo = await h.repo('File');
      const existing = await fileRepo.findOne({ file_id: a.data.file_id });
      if (existing) return fileRepo.update({ file_id: a.data.file_id }, fileData);
      return fileRepo.create(fileData);
    },
  },
  {
    op: 'files.update',
    mirrors: { file: FILE_OPS, fn: 'updateFile', caller: 'updateFile({ file_id, ...update })' },
    expect: ["getRepository('File')", 'fileRepo.update({ file_id }, updateOperation)'],
    gateway: async (h, a) => {
      const { file_id, ...update } = a.data;
      return (await h.repo('File')).update({ file_id }, { ...update, expiresAt: undefined });
    },
  },
  {
    op: 'files.increment_usage',
    mirrors: { file: FILE_OPS, fn: 'updateFileUsage', caller: 'each message referencing a file: updateFileUsage({ file_id })' },
    expect: ["getRepository('File')", 'fileRepo.findOne({ file_id })', 'fileRepo.update({ file_id }, update)'],
    gateway: async (h, a) => {
      const inc = a.inc ?? 1;
      const fileRepo = await h.repo('File');
      const file = await fileRepo.findOne({ file_id: a.file_id });
      if (!file) return null;
      return fileRepo.update({ file_id: a.file_id },
        { usage: (file.usage || 0) + inc, expiresAt: undefined, temp_file_id: undefined });
    },
    legacy: (h, a) => h.models.File.findOneAndUpdate({ file_id: a.file_id },
      { $inc: { usage: a.inc ?? 1 }, $unset: { expiresAt: '', temp_file_id: '' } }, { new: true }).lean(),
  },
  {
    op: 'files.delete_files',
    mirrors: { file: FILE_OPS, fn: 'deleteFiles', caller: 'deleteFiles(file_ids, user)' },
    expect: ["getRepository('File')", 'fileRepo.deleteMany(deleteQuery)'],
    gateway: async (h, a) => (await h.repo('File')).deleteMany(
      a.user_id ? { user: a.user_id } : { file_id: { $in: a.file_ids || [] } }),
    legacy: async (h, a) => (await h.models.File.deleteMany(
      a.user_id ? { user: a.user_id } : { file_id: { $in: a.file_ids || [] } })).deletedCount,
  },

  // --- transactions -------------------------------------------------------------------------
  {
    op: 'transactions.by_user',
    mirrors: { file: 'api/models/Transaction.js', fn: 'getTransactions', caller: 'getTransactions({ user[, createdAt] })' },
    legacy: (h, a) => {
      const filter = { user: a.user_id };
      if (a.start || a.end) filter.createdAt = { ...(a.start ? { $gte: a.start } : {}), ...(a.end ? { $lt: a.end } : {}) };
      return h.models.Transaction.find(filter).lean();
    },
  },
  { op: 'transactions.spend_by_user', mirrors: { file: 'api/models/Transaction.js', fn: null, none: 'LibreChat has no such read: the aggregation is the tool\'s own (librechat-model.md §4.5)' } },
  { op: 'transactions.spend_by_model', mirrors: { file: 'api/models/Transaction.js', fn: null, none: 'LibreChat has no such read: the aggregation is the tool\'s own (librechat-model.md §4.5)' } },
  {
    op: 'transactions.balance',
    mirrors: { file: 'api/models/balanceMethods.js', fn: 'checkBalanceRecord', caller: 'checkBalance before each completion' },
    legacy: async (h, a) => (await h.models.Balance.findOne({ user: a.user_id }).lean())?.tokenCredits ?? 0,
  },
  { op: 'transactions.create_transaction', mirrors: { file: 'api/models/Transaction.js', fn: 'createTransaction', caller: 'createTransaction(txData)' } },
  { op: 'transactions.spend_tokens', mirrors: { file: 'api/models/spendTokens.js', fn: 'spendTokens', caller: 'spendTokens(txData, tokenUsage)' } },

  // --- agents -------------------------------------------------------------------------------
  { op: 'agents.get', mirrors: { file: 'api/models/Agent.js', fn: 'getAgent', caller: 'loadAgent → getAgent({ id })' } },
  { op: 'agents.list', mirrors: { file: 'api/models/Agent.js', fn: 'getListAgentsByAccess', caller: 'GET /api/agents' } },
  {
    op: 'agents.count_promoted',
    mirrors: { file: 'api/models/Agent.js', fn: 'countPromotedAgents', caller: 'marketplace tabs' },
    legacy: (h) => h.models.Agent.countDocuments({ is_promoted: true }),
  },
  { op: 'agents.create', mirrors: { file: 'api/models/Agent.js', fn: 'createAgent', caller: 'POST /api/agents' } },
  { op: 'agents.update', mirrors: { file: 'api/models/Agent.js', fn: 'updateAgent', caller: 'PATCH /api/agents/:id' } },

  // --- prompts ------------------------------------------------------------------------------
  { op: 'prompts.groups_list', mirrors: { file: 'api/models/Prompt.js', fn: 'getListPromptGroupsByAccess', caller: 'GET /api/prompts/groups' } },
  { op: 'prompts.get_group', mirrors: { file: 'api/models/Prompt.js', fn: 'getPromptGroup', caller: 'getPromptGroup({ _id })' } },
  { op: 'prompts.prompts_of_group', mirrors: { file: 'api/models/Prompt.js', fn: 'getPrompts', caller: 'getPrompts({ groupId })' } },
  { op: 'prompts.create_prompt_group', mirrors: { file: 'api/models/Prompt.js', fn: 'createPromptGroup', caller: 'POST /api/prompts' } },
];

module.exports = { ROUTES };
