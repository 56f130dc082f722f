// Starts s3rver (the version pinned in package-lock.json) on 127.0.0.1 with
// its data under --directory and the given buckets, and prints
// "s3rver listening on http://127.0.0.1:PORT" when it accepts requests.
//   node run_s3rver.js --directory DIR [--port 0] [--bucket NAME]...
'use strict';

const S3rver = require('s3rver');

const args = process.argv.slice(2);
let directory = null;
let port = 0;
const buckets = [];
for (let i = 0; i < args.length; i += 2) {
  const value = args[i + 1];
  if (value === undefined) throw new Error(`${args[i]} needs a value`);
  if (args[i] === '--directory') directory = value;
  else if (args[i] === '--port') port = Number(value);
  else if (args[i] === '--bucket') buckets.push({ name: value });
  else throw new Error(`unknown argument ${args[i]}`);
}
if (!directory) throw new Error('--directory is required');

new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: true,
  // Requests reach s3rver through the front, which checks their signatures.
  vhostBuckets: false,
  configureBuckets: buckets,
})
  .run()
  .then(({ address, port: bound }) => {
    console.log(`s3rver listening on http://${address}:${bound}`);
  })
  .catch(err => {
    console.error(`s3rver: ${err.stack || err}`);
    process.exit(1);
  });

// Stops with the front that started it (its stdin is a pipe from the front).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
