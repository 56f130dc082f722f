'use strict';
// Manta's error answers: an HTTP status and a restify RestError body,
// {"code": "...", "message": "..."} (muskie, lib/errors.js).

class MantaError extends Error {
  constructor(status, code, message, headers) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers || {};
  }
}

const notFound = (p) => new MantaError(404, 'ResourceNotFound', p + ' was not found');
const directoryDoesNotExist = (parent) =>
  new MantaError(404, 'DirectoryDoesNotExist', parent + ' does not exist');

module.exports = { MantaError, notFound, directoryDoesNotExist };
