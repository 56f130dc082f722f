'use strict';
// Manta's namespace on disk. Directories are directories under <data>/tree;
// an object is a small JSON file there holding its metadata (etag, size,
// MD5, type, mtime) whose content lives in <data>/blobs/<etag>. An upload
// streams into <data>/tmp and becomes visible by one rename of its metadata
// file, made only after the whole body arrived, as Manta records an object
// only when its PUT completed: an interrupted upload leaves nothing, and an
// older object of the same name stays readable until then.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const { MantaError, notFound, directoryDoesNotExist } = require('./errors');

// /<account>/stor and /<account>/public are Manta's roots, always present.
const ROOT_RE = /^\/[^/]+\/(stor|public)$/;

class Store {
  constructor(dataDir, accounts) {
    this.tree = path.join(dataDir, 'tree');
    this.blobs = path.join(dataDir, 'blobs');
    this.tmp = path.join(dataDir, 'tmp');
    for (const d of [this.tree, this.blobs, this.tmp]) fs.mkdirSync(d, { recursive: true });
    for (const login of accounts.keys()) {
      for (const top of ['stor', 'public']) {
        fs.mkdirSync(path.join(this.tree, login, top), { recursive: true });
      }
    }
  }

  isRoot(p) { return ROOT_RE.test(p); }

  file(p) { return path.join(this.tree, p); }

  // { type: 'directory', mtime } or the object's metadata; null when absent.
  lookup(p) {
    let st;
    try {
      st = fs.statSync(this.file(p));
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw e;
    }
    if (st.isDirectory()) return { type: 'directory', mtime: st.mtimeMs };
    return JSON.parse(fs.readFileSync(this.file(p), 'utf8'));
  }

  // Throws DirectoryDoesNotExist / ParentNotDirectory unless p's parent is a
  // directory (muskie's ensureParent).
  ensureParent(p) {
    const parent = path.posix.dirname(p);
    const md = this.lookup(parent);
    if (!md) throw directoryDoesNotExist(parent);
    if (md.type !== 'directory') {
      throw new MantaError(400, 'ParentNotDirectory', parent + ' is not a directory');
    }
  }

  mkdir(p) {
    this.ensureParent(p);
    const md = this.lookup(p);
    if (md && md.type !== 'directory') {
      throw new MantaError(400, 'ParentNotDirectory', p + ' is an object');
    }
    if (!md) fs.mkdirSync(this.file(p));
  }

  // A writable for the body of a new object at p; commit() makes it visible.
  startUpload(p, contentType, maxSize) {
    this.ensureParent(p);
    const md = this.lookup(p);
    if (md && md.type === 'directory') {
      throw new MantaError(400, 'OperationNotAllowedOnDirectory',
        `${p} is a directory: PUT is not allowed`);
    }
    return new Upload(this, p, contentType, maxSize);
  }

  remove(p) {
    const md = this.lookup(p);
    if (!md) throw notFound(p);
    if (md.type === 'directory') {
      if (this.isRoot(p)) {
        throw new MantaError(400, 'OperationNotAllowedOnRootDirectory',
          `DELETE is not allowed on ${p}`);
      }
      if (fs.readdirSync(this.file(p)).length > 0) {
        throw new MantaError(400, 'DirectoryNotEmpty', p + ' is not empty');
      }
      fs.rmdirSync(this.file(p));
      return;
    }
    fs.unlinkSync(this.file(p));
    fs.rmSync(path.join(this.blobs, md.etag), { force: true });
  }

  blobPath(md) { return path.join(this.blobs, md.etag); }

  // Entries of directory p sorted by name, from `marker` on (inclusive).
  list(p, marker) {
    const names = fs.readdirSync(this.file(p)).sort();
    const entries = [];
    for (const name of names) {
      if (marker && name < marker) continue;
      const md = this.lookup(path.posix.join(p, name));
      if (!md) continue;
      const mtime = new Date(md.mtime).toISOString();
      if (md.type === 'directory') {
        entries.push({ name, type: 'directory', mtime });
      } else {
        entries.push({
          name, etag: md.etag, size: md.size, type: 'object', contentType: md.contentType,
          contentMD5: md.contentMD5, mtime, durability: md.durability,
        });
      }
    }
    return { total: names.length, entries };
  }
}

class Upload {
  constructor(store, p, contentType, maxSize) {
    this.store = store;
    this.path = p;
    this.contentType = contentType || 'application/octet-stream';
    this.maxSize = maxSize;
    this.etag = crypto.randomUUID();
    this.tmp = path.join(store.tmp, this.etag);
    this.fd = fs.openSync(this.tmp, 'w');
    this.md5 = crypto.createHash('md5');
    this.size = 0;
  }

  // Appends a chunk; throws MaxContentLengthExceeded past maxSize.
  write(chunk) {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      throw new MantaError(413, 'MaxContentLengthExceeded',
        'request has exceeded ' + this.maxSize + ' bytes');
    }
    this.md5.update(chunk);
    fs.writeSync(this.fd, chunk);
  }

  // The whole body arrived: the object replaces any older one atomically.
  commit(expectedMd5) {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = null;
    const contentMD5 = this.md5.digest('base64');
    if (expectedMd5 && expectedMd5 !== contentMD5) {
      this.abandon();
      throw new MantaError(400, 'ContentMD5Mismatch',
        `Content-MD5 expected ${expectedMd5}, but was ${contentMD5}`);
    }
    const store = this.store;
    store.ensureParent(this.path);  // it may have gone meanwhile
    const old = store.lookup(this.path);
    fs.renameSync(this.tmp, path.join(store.blobs, this.etag));
    const md = {
      type: 'object', etag: this.etag, size: this.size, contentMD5,
      contentType: this.contentType, mtime: Date.now(), durability: 2,
    };
    const mdTmp = path.join(store.tmp, this.etag + '.json');
    fs.writeFileSync(mdTmp, JSON.stringify(md));
    fs.renameSync(mdTmp, store.file(this.path));
    if (old && old.etag) fs.rmSync(path.join(store.blobs, old.etag), { force: true });
    return md;
  }

  // The request ended early: nothing becomes visible.
  abandon() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.rmSync(this.tmp, { force: true });
  }
}

module.exports = { Store };
