'use strict';
// Who is asking, and may they: Manta's authentication as its web tier (muskie,
// lib/auth.js) does it, with Joyent's own http-signature package verifying
// every signature. Accounts, sub-users, their keys and roles come from a JSON
// file (see README.md). Errors carry Manta's status codes, error codes and
// messages.

const fs = require('fs');
const path = require('path');
const httpSignature = require('http-signature');
const sshpk = require('sshpk');

const { MantaError } = require('./errors');

// muskie's SIGN_ALG.
const ALGORITHMS = new Set(['RSA-SHA1', 'RSA-SHA256', 'RSA-SHA384', 'RSA-SHA512', 'DSA-SHA1',
  'DSA-SHA256', 'ECDSA-SHA256', 'ECDSA-SHA384', 'ECDSA-SHA512']);

function readKey(entry, baseDir) {
  const text = typeof entry === 'string' ? entry :
    fs.readFileSync(path.resolve(baseDir, entry.file), 'utf8');
  return sshpk.parseKey(text, 'auto');
}

// { accounts: { login: { keys: [...], roles: [...], users: { login: { keys, roles,
//   default_roles } } } } } -> lookup tables keyed by MD5 fingerprint.
function loadAccounts(file) {
  const baseDir = path.dirname(path.resolve(file));
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  const accounts = new Map();
  for (const [login, a] of Object.entries(config.accounts || {})) {
    const keysOf = (list) => new Map((list || []).map((e) => {
      const key = readKey(e, baseDir);
      return [key.fingerprint('md5').toString('hex'), key];
    }));
    const users = new Map();
    for (const [ulogin, u] of Object.entries(a.users || {})) {
      users.set(ulogin, {
        login: ulogin,
        keys: keysOf(u.keys),
        roles: new Set(u.roles || []),
        defaultRoles: u.default_roles || [],
      });
    }
    accounts.set(login, { login, keys: keysOf(a.keys), roles: new Set(a.roles || []), users });
  }
  return accounts;
}

// keyId "/account/keys/fp" or "/account/user/keys/fp" (muskie's parseKeyId).
function parseKeyId(keyId) {
  const k = keyId.split('/');
  let out;
  if (k.length === 4 && k[2] === 'keys') {
    out = { account: k[1], keyId: k[3] };
  } else if (k.length === 5 && k[3] === 'keys' && k[2] !== '') {
    out = { account: k[1], user: k[2], keyId: k[4] };
  }
  if (!out || out.account === '' || out.keyId === '') {
    throw new MantaError(403, 'InvalidKeyId', 'the KeyId token you provided is invalid');
  }
  try {
    out.account = decodeURIComponent(out.account);
    out.keyId = decodeURIComponent(out.keyId);
    if (out.user !== undefined) out.user = decodeURIComponent(out.user);
  } catch (e) {
    throw new MantaError(403, 'InvalidKeyId', 'the KeyId token you provided is invalid');
  }
  return out;
}

// The caller of `req`: { account, user, activeRoles, keyId, fingerprint }.
// Throws MantaError as Manta answers: 401/403 for authentication, 409 for
// an invalid role.
function authenticate(req, accounts, clockSkew) {
  if (!req.headers.authorization) {
    throw new MantaError(403, 'AuthorizationFailed',
      'anonymous is not allowed to access ' + req.mantaPath);
  }
  const scheme = req.headers.authorization.split(' ', 1)[0].toLowerCase();
  if (scheme !== 'signature') {
    throw new MantaError(403, 'AuthorizationSchemeNotAllowed',
      scheme + ' is not allowed (use \'signature\')');
  }
  let parsed;
  try {
    parsed = httpSignature.parseRequest(req, { clockSkew });
  } catch (e) {
    throw new MantaError(400, 'InvalidHeader', 'Invalid Signature Authorization header: ' +
      e.message);
  }
  if (!ALGORITHMS.has(parsed.algorithm)) {
    throw new MantaError(401, 'InvalidAlgorithm', parsed.algorithm + ' is not a supported ' +
      'signing algorithm. Supported algorithms are ' + [...ALGORITHMS].join(', '));
  }
  const id = parseKeyId(parsed.keyId);
  const account = accounts.get(id.account);
  if (!account) {
    throw new MantaError(403, 'AccountDoesNotExist', id.account + ' does not exist');
  }
  let user = null;
  if (id.user !== undefined) {
    user = account.users.get(id.user);
    if (!user) {
      throw new MantaError(403, 'UserDoesNotExist', id.account + '/' + id.user +
        ' does not exist');
    }
  }
  const key = (user ? user.keys : account.keys).get(id.keyId);
  if (!key) {
    throw new MantaError(403, 'KeyDoesNotExist', user ?
      `/${id.account}/${id.user}/keys/${id.keyId} does not exist` :
      `/${id.account}/keys/${id.keyId} does not exist`);
  }
  if (!httpSignature.verifySignature(parsed, key)) {
    throw new MantaError(403, 'InvalidSignature',
      'The signature we calculated does not match the one you sent');
  }
  return {
    account, user, keyId: parsed.keyId, fingerprint: id.keyId,
    activeRoles: activeRoles(req, account, user),
  };
}

// The Role header (comma-separated names, '*' for all of the user's roles)
// or the user's default roles (muskie's getActiveRoles).
function activeRoles(req, account, user) {
  const requested = req.headers.role;
  if (!requested) return user ? user.defaultRoles : [];
  if (requested === '*' && user) return [...user.roles];
  const names = requested.split(/\s*,\s*/);
  for (const name of names) {
    const mine = user ? user.roles : account.roles;
    if (!account.roles.has(name) || !mine.has(name)) {
      throw new MantaError(409, 'InvalidRole', `Role "${name}" is invalid.`);
    }
  }
  return names;
}

// May `caller` touch `mantaPath`? The account owns everything under
// /<account>; a sub-user needs an active role (this double does not model
// role tags or policies: any active role of the account grants access).
function authorize(caller, owner, mantaPath) {
  const login = caller.user ? `${caller.account.login}/${caller.user.login}` :
    caller.account.login;
  if (owner !== caller.account.login) {
    throw new MantaError(403, 'AuthorizationFailed',
      `${login} is not allowed to access ${mantaPath}`);
  }
  if (caller.user && caller.activeRoles.length === 0) {
    throw new MantaError(403, 'AuthorizationFailed',
      `${login} is not allowed to access ${mantaPath}`);
  }
}

module.exports = { loadAccounts, authenticate, authorize, parseKeyId };
