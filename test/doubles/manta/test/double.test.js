'use strict';
// The Manta double's own tests (node --test): requests signed by Joyent's
// http-signature itself, so they check the double, not manage's signer
// (test/integration/manta_store_test.cc checks manage against the double).

const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { after, before, describe, it } = require('node:test');

const httpSignature = require('http-signature');
const sshpk = require('sshpk');

const { Double } = require('../manta_double');

const KEYS = path.join(__dirname, '..', '..', '..', 'data', 'manta-keys');
const ACCOUNTS = path.join(__dirname, '..', 'test-accounts.json');

function key(file) {
  return sshpk.parsePrivateKey(fs.readFileSync(path.join(KEYS, file)), 'auto');
}
function fp(k) { return k.fingerprint('md5').toString('hex'); }

let server;
let double;
let base;

before(async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'manta-double-test-'));
  double = new Double({ accounts: ACCOUNTS, data, clockSkew: 300, maxStreamingMb: 1 });
  server = http.createServer((req, res) => double.handle(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = { host: '127.0.0.1', port: server.address().port };
});

after(() => server.close());

// One request. `sign`: {key, keyId} signed by http-signature's signRequest;
// `body`: a string or an array of chunks (sent chunked); `abortAfter`: end
// the connection after writing that many chunks.
function request(method, p, opts = {}) {
  return new Promise((resolve, reject) => {
    const headers = Object.assign({}, opts.headers);
    const req = http.request({ ...base, method, path: p, headers });
    if (opts.sign) httpSignature.signRequest(req, opts.sign);
    if (opts.date) req.setHeader('Date', opts.date);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      const done = (cut) => resolve({ status: res.statusCode, headers: res.headers, text, cut,
        json: () => JSON.parse(text) });
      res.on('end', () => done(false));
      res.on('error', () => done(true));  // the body was cut off
    });
    req.on('error', (e) => (opts.abortAfter !== undefined ? resolve({ status: 0, error: e }) :
      reject(e)));
    const chunks = Array.isArray(opts.body) ? opts.body : opts.body ? [opts.body] : [];
    chunks.forEach((c, i) => {
      if (opts.abortAfter !== undefined && i >= opts.abortAfter) return;
      req.write(c);
    });
    if (opts.abortAfter !== undefined) {
      setTimeout(() => { req.destroy(); resolve({ status: 0 }); }, 100);
      return;
    }
    req.end();
  });
}

const owner = key('rsa');
// http-signature signs nistp384 keys with SHA-384 unless told otherwise, and
// then refuses its own choice: its hashes are SHA-1, SHA-256 and SHA-512.
const as = (k, user) => ({
  key: k, keyId: `/manage/${user ? user + '/' : ''}keys/${fp(k)}`,
  algorithm: k.type === 'ecdsa' && k.size === 384 ? 'ecdsa-sha512' : undefined,
});
const signed = (opts = {}) => ({ sign: as(owner), ...opts });
const mkdir = (p) => request('PUT', p, signed({ headers: {
  'content-type': 'application/json; type=directory' } }));
const put = (p, body, opts = {}) => request('PUT', p, signed({ body, ...opts }));
const faults = (list) => request('PUT', '/.double/faults', { body: JSON.stringify(list) });

describe('authentication', () => {
  it('accepts RSA and ECDSA keys in PEM and OpenSSH formats', async () => {
    for (const file of ['rsa', 'rsa.pkcs1.pem', 'rsa.pkcs8.pem', 'ecdsa256', 'ecdsa256.sec1.pem',
      'ecdsa384', 'ecdsa384.pkcs8.pem', 'ecdsa521', 'ecdsa521.sec1.pem']) {
      const res = await request('HEAD', '/manage/stor', { sign: as(key(file)) });
      assert.equal(res.status, 200, file);
      assert.equal(res.headers['content-type'], 'application/x-json-stream; type=directory');
    }
  });

  it('refuses a key it does not know, a bad signature, an unknown account', async () => {
    let res = await request('GET', '/manage/stor', { sign: as(key('other-rsa')) });
    assert.equal(res.status, 403);
    assert.equal(res.json().code, 'KeyDoesNotExist');
    // The keyId of a registered key, signed by another.
    res = await request('GET', '/manage/stor', { sign: { key: key('other-rsa'),
      keyId: `/manage/keys/${fp(owner)}` } });
    assert.equal(res.status, 403);
    assert.deepEqual(res.json(), { code: 'InvalidSignature',
      message: 'The signature we calculated does not match the one you sent' });
    res = await request('GET', '/nobody/stor', { sign: { key: owner,
      keyId: `/nobody/keys/${fp(owner)}` } });
    assert.equal(res.json().code, 'AccountDoesNotExist');
    res = await request('GET', '/manage/stor');
    assert.equal(res.status, 403);
    res = await request('GET', '/manage/stor', { sign: { key: owner,
      keyId: `/manage/x/y/keys/${fp(owner)}` } });
    assert.equal(res.json().code, 'InvalidKeyId');
  });

  it('refuses ecdsa-sha384, as Manta does (http-signature has no SHA-384)', async () => {
    const k = key('ecdsa384');
    const date = new Date().toUTCString();
    const signer = k.createSign('sha384');
    signer.update('date: ' + date);
    const authz = `Signature keyId="/manage/keys/${fp(k)}",algorithm="ecdsa-sha384",` +
      `headers="date",signature="${signer.sign().toString()}"`;
    const res = await request('GET', '/manage/stor', { date, headers: { authorization: authz } });
    assert.equal(res.status, 400);
    assert.match(res.json().message, /ecdsa-sha384 is not supported/);
  });

  it('refuses a Date too far from its clock', async () => {
    const res = await request('GET', '/manage/stor', signed({
      date: new Date(Date.now() - 3600e3).toUTCString() }));
    assert.equal(res.status, 400);
    assert.match(res.json().message, /clock skew/);
  });

  it('refuses another account\'s data', async () => {
    const res = await request('GET', '/someone-else/stor', signed());
    assert.equal(res.status, 403);
    assert.equal(res.json().code, 'AuthorizationFailed');
  });
});

describe('sub-users and roles', () => {
  const backup = as(key('other-rsa'), 'backup');
  it('a sub-user acts through an active role given in the Role header', async () => {
    let res = await request('GET', '/manage/stor', { sign: backup });
    assert.equal(res.status, 403);
    assert.equal(res.json().code, 'AuthorizationFailed');
    res = await request('GET', '/manage/stor', { sign: backup, headers: { role: 'snapshots' } });
    assert.equal(res.status, 200);
    res = await request('GET', '/manage/stor', { sign: backup, headers: { role: 'readers' } });
    assert.equal(res.status, 409);
    assert.deepEqual(res.json(), { code: 'InvalidRole', message: 'Role "readers" is invalid.' });
    res = await request('GET', '/manage/stor', { sign: backup, headers: { role: '*' } });
    assert.equal(res.status, 200);
  });
  it('a sub-user with default roles needs no Role header', async () => {
    const res = await request('GET', '/manage/stor', { sign: as(key('ecdsa384'), 'reader') });
    assert.equal(res.status, 200);
  });
  it('an unknown sub-user', async () => {
    const res = await request('GET', '/manage/stor', { sign: as(owner, 'ghost') });
    assert.equal(res.json().code, 'UserDoesNotExist');
  });
});

describe('objects and directories', () => {
  it('PutDirectory needs its parent; PutObject too', async () => {
    let res = await mkdir('/manage/stor/a/b');
    assert.equal(res.status, 404);
    assert.equal(res.json().code, 'DirectoryDoesNotExist');
    res = await put('/manage/stor/a/obj', 'x');
    assert.equal(res.json().code, 'DirectoryDoesNotExist');
    assert.equal((await mkdir('/manage/stor/a')).status, 204);
    assert.equal((await mkdir('/manage/stor/a')).status, 204);  // again: no-op
    assert.equal((await mkdir('/manage/stor/a/b')).status, 204);
  });

  it('a chunked PUT, GET with Range and If-Match, HEAD, DELETE', async () => {
    await mkdir('/manage/stor/o');
    let res = await put('/manage/stor/o/x', ['hello ', 'world']);
    assert.equal(res.status, 204);
    const etag = res.headers.etag;
    assert.equal(res.headers['computed-md5'], 'XrY7u+Ae7tCTyyK7j1rNww==');
    res = await request('GET', '/manage/stor/o/x', signed());
    assert.equal(res.text, 'hello world');
    assert.equal(res.headers['content-md5'], 'XrY7u+Ae7tCTyyK7j1rNww==');
    res = await request('GET', '/manage/stor/o/x', signed({ headers: { range: 'bytes=6-',
      'if-match': etag } }));
    assert.equal(res.status, 206);
    assert.equal(res.text, 'world');
    assert.equal(res.headers['content-range'], 'bytes 6-10/11');
    res = await request('GET', '/manage/stor/o/x', signed({ headers: { range: 'bytes=11-' } }));
    assert.equal(res.status, 416);
    res = await request('GET', '/manage/stor/o/x', signed({ headers: { 'if-match': 'other' } }));
    assert.equal(res.status, 412);
    res = await request('HEAD', '/manage/stor/o/x', signed());
    assert.equal(res.headers['content-length'], '11');
    assert.equal(res.headers.etag, etag);
    assert.equal((await request('DELETE', '/manage/stor/o', signed())).json().code,
      'DirectoryNotEmpty');
    assert.equal((await request('DELETE', '/manage/stor/o/x', signed())).status, 204);
    res = await request('DELETE', '/manage/stor/o/x', signed());
    assert.equal(res.status, 404);
    assert.equal(res.json().code, 'ResourceNotFound');
  });

  it('lists a directory by name, from an inclusive marker, a page at a time', async () => {
    await mkdir('/manage/stor/l');
    for (const n of ['c', 'a', 'b', 'd']) await put('/manage/stor/l/' + n, n);
    await mkdir('/manage/stor/l/sub');
    let res = await request('GET', '/manage/stor/l?limit=2', signed());
    assert.equal(res.headers['result-set-size'], '5');
    let lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.name), ['a', 'b']);
    assert.equal(lines[0].type, 'object');
    assert.equal(lines[0].size, 1);
    res = await request('GET', '/manage/stor/l?limit=3&marker=b', signed());
    lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.name), ['b', 'c', 'd']);
    res = await request('GET', '/manage/stor/l?marker=d', signed());
    lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => [e.name, e.type]), [['d', 'object'], ['sub', 'directory']]);
    res = await request('GET', '/manage/stor/l?limit=1025', signed());
    assert.equal(res.status, 400);
  });
});

describe('faults: one clear error, nothing partial visible', () => {
  it('a connection dropped mid-upload leaves the older object', async () => {
    await mkdir('/manage/stor/f');
    await put('/manage/stor/f/x', 'old');
    await faults([{ method: 'PUT', action: 'drop', after_bytes: 4 }]);
    const res = await put('/manage/stor/f/x', ['new-', 'data-', 'more'], { abortAfter: 3 });
    assert.equal(res.status, 0);
    assert.equal((await request('GET', '/manage/stor/f/x', signed())).text, 'old');
    assert.deepEqual(fs.readdirSync(path.join(double.store.tmp)), []);
  });

  it('a client that stops mid-upload creates nothing', async () => {
    await mkdir('/manage/stor/g');
    await put('/manage/stor/g/y', ['part-one', 'part-two'], { abortAfter: 1 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await request('HEAD', '/manage/stor/g/y', signed())).status, 404);
    const list = await request('GET', '/manage/stor/g', signed());
    assert.equal(list.text, '');
  });

  it('answers 500 once, then works', async () => {
    await faults([{ method: 'HEAD', status: 500, code: 'InternalError',
      message: 'an unexpected error occurred' }]);
    let res = await request('HEAD', '/manage/stor', signed());
    assert.equal(res.status, 500);
    res = await request('HEAD', '/manage/stor', signed());
    assert.equal(res.status, 200);
  });

  it('answers 403 to an upload and keeps nothing', async () => {
    await mkdir('/manage/stor/h');
    await faults([{ method: 'PUT', path: '/h/z$', status: 403, code: 'AuthorizationFailed',
      message: 'manage is not allowed to access /manage/stor/h/z' }]);
    const res = await put('/manage/stor/h/z', 'data');
    assert.equal(res.status, 403);
    assert.equal(res.json().code, 'AuthorizationFailed');
    assert.equal((await request('HEAD', '/manage/stor/h/z', signed())).status, 404);
  });

  it('a streamed upload over Max-Content-Length is refused and not kept', async () => {
    await mkdir('/manage/stor/m');
    const res = await put('/manage/stor/m/big', ['0123456789', '0123456789'],
      { headers: { 'max-content-length': '15' } });
    assert.equal(res.status, 413);
    assert.equal(res.json().code, 'MaxContentLengthExceeded');
    assert.equal((await request('HEAD', '/manage/stor/m/big', signed())).status, 404);
  });

  it('drops a download mid-body', async () => {
    await mkdir('/manage/stor/d');
    await put('/manage/stor/d/x', 'abcdefghij');
    await faults([{ method: 'GET', action: 'drop', after_bytes: 4 }]);
    const res = await request('GET', '/manage/stor/d/x', signed());
    assert.equal(res.cut, true);
    assert.equal(res.text, 'abcd');
  });
});
