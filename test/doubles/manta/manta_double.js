#!/usr/bin/env node
'use strict';
// A Manta storage API double for manage's tests (README.md): the subset of
// Manta's REST API a snapshot store uses (PutDirectory, PutObject streamed
// with chunked encoding, GetObject with Range and If-Match, HeadObject,
// GetDirectory with limit and marker, DeleteObject), with Manta's status
// codes, headers and error bodies, every request's signature verified by
// Joyent's http-signature, data kept on disk, and faults to inject.
//
//   node manta_double.js --accounts FILE --data DIR [--port 0] [--host 127.0.0.1]
//        [--tls-cert F --tls-key F] [--max-streaming-mb 5120] [--clock-skew 300]
//        [--exit-with PID]
// Prints "manta-double listening on http(s)://HOST:PORT" once it accepts.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');

const { MantaError, notFound } = require('./lib/errors');
const { loadAccounts, authenticate, authorize } = require('./lib/auth');
const { Store } = require('./lib/store');

const DIR_TYPE = 'application/x-json-stream; type=directory';

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', maxStreamingMb: 5120, clockSkew: 300 };
  const names = {
    '--accounts': 'accounts', '--data': 'data', '--port': 'port', '--host': 'host',
    '--tls-cert': 'tlsCert', '--tls-key': 'tlsKey', '--max-streaming-mb': 'maxStreamingMb',
    '--clock-skew': 'clockSkew', '--exit-with': 'exitWith',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || argv[i + 1] === undefined) throw new Error('unknown or incomplete ' + argv[i]);
    opts[name] = argv[i + 1];
  }
  if (!opts.accounts || !opts.data) throw new Error('--accounts and --data are required');
  for (const k of ['port', 'maxStreamingMb', 'clockSkew', 'exitWith']) {
    if (opts[k] !== undefined) opts[k] = Number(opts[k]);
  }
  return opts;
}

// /a/stor/x%20y/ -> /a/stor/x y; null for '.' or '..' components.
function mantaPath(pathname) {
  const parts = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    const part = decodeURIComponent(raw);
    if (part === '.' || part === '..' || part.includes('/')) return null;
    parts.push(part);
  }
  return '/' + parts.join('/');
}

class Double {
  constructor(opts) {
    this.opts = opts;
    this.accounts = loadAccounts(opts.accounts);
    this.store = new Store(opts.data, this.accounts);
    this.faults = [];
    this.log = [];
  }

  // The first fault matching this request, used up by one.
  takeFault(req, action) {
    const i = this.faults.findIndex((f) => (f.action || 'status') === action &&
      (!f.method || f.method === '*' || f.method === req.method) &&
      (!f.path || new RegExp(f.path).test(req.mantaPath)));
    if (i < 0) return null;
    const fault = this.faults[i];
    fault.times = (fault.times || 1) - 1;
    if (fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  headers(res, req) {
    res.setHeader('Server', 'Manta');
    res.setHeader('x-request-id', req.id);
    res.setHeader('x-server-name', os.hostname());
    res.setHeader('x-response-time', String(Date.now() - req.started));
  }

  sendError(req, res, err) {
    if (!(err instanceof MantaError)) {
      console.error('manta-double: internal error:', err);
      err = new MantaError(500, 'InternalError', 'an unexpected error occurred');
    }
    req.outcome = err.code;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ code: err.code, message: err.message });
    this.headers(res, req);
    for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    res.writeHead(err.status, {
      'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  handle(req, res) {
    req.id = crypto.randomUUID();
    req.started = Date.now();
    const url = new URL(req.url, 'http://manta');
    res.on('finish', () => this.record(req, res));
    res.on('close', () => { if (!res.writableFinished) this.record(req, res); });
    if (url.pathname.startsWith('/.double/')) return this.admin(req, res, url);
    try {
      req.mantaPath = mantaPath(url.pathname);
      if (req.mantaPath === null) {
        throw new MantaError(400, 'InvalidResource', `"${url.pathname}" is invalid`);
      }
      const caller = authenticate(req, this.accounts, this.opts.clockSkew);
      req.caller = caller;
      authorize(caller, req.mantaPath.split('/')[1], req.mantaPath);
      if (!/^\/[^/]+\/(stor|public)(\/|$)/.test(req.mantaPath)) {
        throw new MantaError(400, 'InvalidResource', `"${req.mantaPath}" is invalid`);
      }
      const fault = this.takeFault(req, 'status');
      if (fault) {
        throw new MantaError(fault.status || 500, fault.code || 'InternalError',
          fault.message || 'an unexpected error occurred');
      }
      switch (req.method) {
        case 'PUT': return this.put(req, res, url);
        case 'GET': case 'HEAD': return this.get(req, res, url);
        case 'DELETE': return this.del(req, res);
        default:
          throw new MantaError(405, 'BadMethod', `${req.method} is not allowed`);
      }
    } catch (e) {
      this.closeAfterError(req, res);
      return this.sendError(req, res, e);
    }
  }

  // A request whose body we will not read: answer, then close the
  // connection so that the client stops sending.
  closeAfterError(req, res) {
    if (req.method !== 'PUT' || req.complete) return;
    res.setHeader('Connection', 'close');
    res.on('finish', () => req.socket.destroy());
  }

  put(req, res) {
    const type = req.headers['content-type'] || '';
    if (type === 'application/json; type=directory' || type === DIR_TYPE) {
      req.resume();
      req.on('end', () => {
        try {
          if (!this.store.isRoot(req.mantaPath)) this.store.mkdir(req.mantaPath);
          this.headers(res, req);
          res.setHeader('Last-Modified', new Date().toUTCString());
          res.writeHead(204);
          res.end();
        } catch (e) {
          this.sendError(req, res, e);
        }
      });
      return;
    }
    this.putObject(req, res, type);
  }

  putObject(req, res, type) {
    const chunked = req.headers['content-length'] === undefined;
    const max = chunked ?
      Number(req.headers['max-content-length'] || this.opts.maxStreamingMb * 1024 * 1024) :
      Number(req.headers['content-length']);
    if (!Number.isFinite(max) || max < 0) {
      throw new MantaError(400, 'InvalidMaxContentLength',
        req.headers['max-content-length'] + ' is an invalid max-content-length value');
    }
    req.chunked = chunked;
    const upload = this.store.startUpload(req.mantaPath, type, max);
    const drop = this.takeFault(req, 'drop');
    let failed = false;
    req.on('data', (chunk) => {
      if (failed) return;
      try {
        upload.write(chunk);
      } catch (e) {
        failed = true;
        upload.abandon();
        this.closeAfterError(req, res);
        this.sendError(req, res, e);
        return;
      }
      if (drop && upload.size >= (drop.after_bytes || 0)) {
        failed = true;
        upload.abandon();
        req.outcome = 'DroppedByFault';
        req.socket.destroy();
      }
    });
    req.on('close', () => {
      if (!req.complete && !failed) {
        failed = true;
        upload.abandon();  // UploadAbandoned: nothing becomes visible
        req.outcome = 'UploadAbandoned';
      }
    });
    req.on('end', () => {
      if (failed) return;
      try {
        const md = upload.commit(req.headers['content-md5']);
        req.bytes = md.size;
        this.headers(res, req);
        res.setHeader('Etag', md.etag);
        res.setHeader('Last-Modified', new Date(md.mtime).toUTCString());
        res.setHeader('Computed-MD5', md.contentMD5);
        res.writeHead(204);
        res.end();
      } catch (e) {
        upload.abandon();
        this.sendError(req, res, e);
      }
    });
  }

  get(req, res, url) {
    const md = this.store.lookup(req.mantaPath);
    if (!md) throw notFound(req.mantaPath);
    this.headers(res, req);
    if (md.type === 'directory') return this.getDirectory(req, res, url);
    res.setHeader('Etag', md.etag);
    res.setHeader('Last-Modified', new Date(md.mtime).toUTCString());
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== '*' &&
        !ifMatch.split(/\s*,\s*/).some((t) => t.replace(/^"|"$/g, '') === md.etag)) {
      throw new MantaError(412, 'PreconditionFailed',
        `if-match '${ifMatch}' didn't match etag '${md.etag}'`);
    }
    const range = this.range(req.headers.range, md.size);
    res.setHeader('Durability-Level', String(md.durability));
    res.setHeader('Content-Type', md.contentType);
    if (range) {
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${md.size}`);
    } else {
      res.setHeader('Accept-Ranges', 'bytes');
      res.setHeader('Content-MD5', md.contentMD5);
    }
    const length = range ? range.end - range.start + 1 : md.size;
    res.setHeader('Content-Length', String(length));
    res.writeHead(range ? 206 : 200);
    if (req.method === 'HEAD' || length === 0) return res.end();
    this.stream(req, res, md, range ? range.start : 0, length);
  }

  // {start, end} of a "bytes=a-b" Range (muskie refuses multi-range with 501);
  // null without one.
  range(header, size) {
    if (!header) return null;
    if (header.includes(',')) {
      throw new MantaError(501, 'NotImplemented', 'multi-range requests not supported');
    }
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    let start, end;
    if (m && m[1] !== '') {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    } else if (m && m[2] !== '') {
      start = Math.max(size - Number(m[2]), 0);
      end = size - 1;
    }
    if (start === undefined || start > end || start >= size) {
      throw new MantaError(416, 'RequestedRangeNotSatisfiable', `${header} is an invalid range`,
        { 'Content-Range': `bytes */${size}` });
    }
    return { start, end };
  }

  stream(req, res, md, start, length) {
    const fd = fs.openSync(this.store.blobPath(md), 'r');
    const drop = this.takeFault(req, 'drop');
    const input = fs.createReadStream(null, { fd, start, end: start + length - 1 });
    let sent = 0;
    input.on('data', (chunk) => {
      if (drop && sent + chunk.length > (drop.after_bytes || 0)) {
        const part = chunk.subarray(0, Math.max((drop.after_bytes || 0) - sent, 0));
        input.destroy();
        req.outcome = 'DroppedByFault';
        res.write(part, () => res.destroy());
        return;
      }
      sent += chunk.length;
      req.bytes = sent;
      if (!res.write(chunk)) {
        input.pause();
        res.once('drain', () => input.resume());
      }
    });
    input.on('end', () => res.end());
    input.on('error', () => res.destroy());
    res.on('close', () => input.destroy());
  }

  getDirectory(req, res, url) {
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam === null ? 256 : Number(limitParam);
    if (!Number.isInteger(limit) || limit <= 0 || limit > 1024) {
      throw new MantaError(400, 'InvalidArgumentError',
        'limit=' + limitParam + ' is invalid: must be between [1, 1024]');
    }
    const { total, entries } = this.store.list(req.mantaPath, url.searchParams.get('marker'));
    res.setHeader('Content-Type', DIR_TYPE);
    res.setHeader('Result-Set-Size', String(total));
    res.writeHead(200);
    if (req.method === 'HEAD') return res.end();
    for (const e of entries.slice(0, limit)) res.write(JSON.stringify(e) + '\n');
    res.end();
  }

  del(req, res) {
    this.store.remove(req.mantaPath);
    this.headers(res, req);
    res.writeHead(204);
    res.end();
  }

  // Test controls, outside Manta's namespace: GET /.double/log, DELETE
  // /.double/log, GET|PUT /.double/faults (a JSON list, see README.md).
  admin(req, res, url) {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const reply = (status, value) => {
        const text = value === undefined ? '' : JSON.stringify(value);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(text);
      };
      try {
        if (url.pathname === '/.double/log' && req.method === 'GET') return reply(200, this.log);
        if (url.pathname === '/.double/log' && req.method === 'DELETE') {
          this.log = [];
          return reply(204);
        }
        if (url.pathname === '/.double/faults' && req.method === 'GET') {
          return reply(200, this.faults);
        }
        if (url.pathname === '/.double/faults' && req.method === 'PUT') {
          const faults = JSON.parse(body);
          if (!Array.isArray(faults)) throw new Error('a JSON list of faults is required');
          this.faults = faults;
          return reply(204);
        }
        return reply(404, { code: 'ResourceNotFound', message: url.pathname + ' was not found' });
      } catch (e) {
        return reply(400, { code: 'InvalidArgument', message: e.message });
      }
    });
  }

  // One line per request on stdout and in the log; never a credential.
  record(req, res) {
    if (req.recorded || !req.mantaPath) return;
    req.recorded = true;
    const entry = {
      method: req.method, path: req.mantaPath, status: res.statusCode,
      outcome: req.outcome || null, keyId: req.caller ? req.caller.keyId : null,
      role: req.headers.role || null, chunked: Boolean(req.chunked), bytes: req.bytes || 0,
      range: req.headers.range || null,
    };
    if (!res.writableFinished) entry.status = 0;  // the connection ended first
    this.log.push(entry);
    if (this.log.length > 10000) this.log.shift();
    console.log(`${entry.method} ${entry.path} ${entry.status}` +
      (entry.outcome ? ' ' + entry.outcome : '') + (entry.keyId ? ' ' + entry.keyId : ''));
  }
}

function main() {
  const opts = parseArgs(process.argv);
  const double = new Double(opts);
  const handler = (req, res) => {
    try {
      double.handle(req, res);
    } catch (e) {
      double.sendError(req, res, e);
    }
  };
  const tls = opts.tlsCert && opts.tlsKey;
  const server = tls ?
    https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
      handler) :
    http.createServer(handler);
  server.requestTimeout = 0;  // uploads may take long
  server.listen(opts.port, opts.host, () => {
    const addr = server.address();
    console.log(`manta-double listening on ${tls ? 'https' : 'http'}://${addr.address}:` +
      `${addr.port}`);
  });
  const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts.exitWith) {
    setInterval(() => {
      try {
        process.kill(opts.exitWith, 0);
      } catch (e) {
        process.exit(0);
      }
    }, 1000).unref();
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error('manta-double: ' + e.message);
    process.exit(2);
  }
}

module.exports = { Double, mantaPath };
