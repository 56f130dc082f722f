#!/usr/bin/env python3
"""An S3 endpoint for the tests: s3rver (npm, pinned in test/doubles/s3/) behind
a front that checks every request as S3 does before s3rver sees it.

s3rver 3.7.1 does not verify SigV4 signatures (any secret is accepted), so the
front verifies each request's Authorization header with AWS's own signer,
botocore's S3SigV4Auth (Debian's python3-botocore), over exactly the headers
the client signed, and the payload against x-amz-content-sha256:

- no Authorization: 403 AccessDenied; unknown access key: 403 InvalidAccessKeyId;
- a scope that is not <date>/<region>/s3/aws4_request: 400 AuthorizationHeaderMalformed;
- X-Amz-Date more than 15 minutes off: 403 RequestTimeTooSkewed;
- host, x-amz-date, x-amz-content-sha256 or any x-amz-* header unsigned: 403 AccessDenied;
- a payload whose SHA-256 is not x-amz-content-sha256: 400 XAmzContentSHA256Mismatch;
- a signature that differs: 403 SignatureDoesNotMatch (with S3's StringToSign
  and CanonicalRequest elements).

Requests that pass go to s3rver without their Authorization header.

Faults are injected over HTTP at /__faults__ (not a valid bucket name):
POST a JSON rule, DELETE to clear them all. A rule matches a request by
"method", "query" (a parameter it must carry, e.g. "partNumber"), "key"
(a substring of the path); it skips the first "skip" matches and then fires
"times" times (default 1):
  {"action": "status", "status": 500, "code": "InternalError"}
      answer with an S3 error after reading the request;
  {"action": "drop"} on an upload: read half the body, then close the
      connection without an answer; on a GET: send the headers and half the
      body, then close.
  {"action": "hold", "seconds": N} on an upload: read half the body, note
      "held", then answer nothing for N seconds (default 60) before closing:
      a stalled upload, for a test to kill its client in the middle of it.
GET /__requests__ lists the requests seen so far ("METHOD path?query STATUS").

  s3_double.py --directory DIR [--port 0] [--bucket NAME]... [--region R]
               [--access-key ID] [--log FILE] [--detached]
The secret is read from $S3_DOUBLE_SECRET_KEY (never the command line);
both default to the test world's own credentials. Prints
"s3-double listening on http://127.0.0.1:PORT" when ready and stops, with
s3rver, on SIGTERM and (unless --detached) when its parent process dies.
"""

import argparse
import ssl
import ctypes
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import botocore  # noqa: F401
except ImportError:  # python3 on PATH is not Debian's
    sys.path.append("/usr/lib/python3/dist-packages")
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest, HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ACCESS_KEY = "MANAGETESTACCESSKEY"
DEFAULT_SECRET_KEY = "manage-test-secret-key"
MAX_SKEW = datetime.timedelta(minutes=15)
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/"
                     r"aws4_request,\s*SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})$")
UNSIGNED = "UNSIGNED-PAYLOAD"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "expect"}
CONTROL_FAULTS = "/__faults__"
CONTROL_REQUESTS = "/__requests__"


def die_with_parent():
    """Asks the kernel for SIGTERM when the parent process dies (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class S3Failure(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error_body(code, message, resource="", **extra):
    def esc(s):
        return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    parts = [f"<Code>{esc(code)}</Code>", f"<Message>{esc(message)}</Message>"]
    parts += [f"<{k}>{esc(v)}</{k}>" for k, v in extra.items()]
    if resource:
        parts.append(f"<Resource>{esc(resource)}</Resource>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts)
            + "<RequestId>0000000000000000</RequestId></Error>").encode()


class ExactHeadersAuth(S3SigV4Auth):
    """botocore's S3 signer over exactly the request's headers: the verifier
    gives it only the headers the client said it signed (botocore would
    otherwise leave out User-Agent and Expect, which a client may sign)."""

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers


def verify(method, raw_path, headers, body, credentials, region, now):
    """Raises S3Failure unless the request is signed as S3 requires."""
    auth = headers.get("authorization")
    if not auth:
        raise S3Failure(403, "AccessDenied", "Access Denied")
    m = AUTH_RE.match(auth.strip())
    if not m:
        raise S3Failure(400, "AuthorizationHeaderMalformed",
                        "The authorization header is malformed")
    access_key, scope_date, scope_region, service, signed, signature = m.groups()
    secret = credentials.get(access_key)
    if secret is None:
        raise S3Failure(403, "InvalidAccessKeyId",
                        "The AWS Access Key Id you provided does not exist in our records.",
                        AWSAccessKeyId=access_key)
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise S3Failure(403, "AccessDenied", "AWS authentication requires a valid Date or "
                        "x-amz-date header") from None
    if scope_date != amz_date[:8] or scope_region != region or service != "s3":
        raise S3Failure(400, "AuthorizationHeaderMalformed",
                        f"The authorization header is malformed; the scope "
                        f"'{scope_date}/{scope_region}/{service}' is wrong; expecting "
                        f"'{amz_date[:8]}/{region}/s3'", Region=region)
    if abs(now - when) > MAX_SKEW:
        raise S3Failure(403, "RequestTimeTooSkewed", "The difference between the request time "
                        "and the current time is too large.")
    signed_names = signed.split(";")
    unsigned = [n for n in ("host", "x-amz-date", "x-amz-content-sha256") if n not in signed_names]
    unsigned += [n for n in headers if n.startswith("x-amz-") and n not in signed_names]
    if unsigned:
        raise S3Failure(403, "AccessDenied", "There were headers present in the request which "
                        "were not signed", HeadersNotSigned=", ".join(sorted(set(unsigned))))
    missing = [n for n in signed_names if n not in headers]
    if missing:
        raise S3Failure(403, "SignatureDoesNotMatch", "Signed headers are missing: "
                        + ", ".join(missing))
    payload_hash = headers.get("x-amz-content-sha256", "")
    if payload_hash != UNSIGNED:
        if not re.fullmatch(r"[0-9a-f]{64}", payload_hash):
            raise S3Failure(400, "InvalidArgument", "x-amz-content-sha256 must be "
                            "UNSIGNED-PAYLOAD or a SHA-256 hex digest")
        actual = hashlib.sha256(body).hexdigest()
        if actual != payload_hash:
            raise S3Failure(400, "XAmzContentSHA256Mismatch", "The provided "
                            "'x-amz-content-sha256' header does not match what was computed.",
                            ClientComputedContentSHA256=payload_hash,
                            S3ComputedContentSHA256=actual)
    path, _, query = raw_path.partition("?")
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    request = AWSRequest(method=method, url="http://" + headers["host"] + path,
                         headers={n: headers[n] for n in signed_names}, data=body,
                         params=params or None)
    signer = ExactHeadersAuth(Credentials(access_key, secret), "s3", region)
    request.context["timestamp"] = amz_date
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, signature):
        raise S3Failure(403, "SignatureDoesNotMatch", "The request signature we calculated does "
                        "not match the signature you provided. Check your key and signing "
                        "method.", AWSAccessKeyId=access_key, StringToSign=string_to_sign,
                        CanonicalRequest=canonical)


class Faults:
    """Injected faults, matched in the order they were added."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, rule):
        rule = dict(rule)
        if rule.get("action") not in ("status", "drop", "hold"):
            raise ValueError("action must be 'status', 'drop' or 'hold'")
        rule.setdefault("times", 1)
        rule.setdefault("skip", 0)
        with self.lock:
            self.rules.append(rule)

    def clear(self):
        with self.lock:
            self.rules.clear()

    def take(self, method, path, params):
        """The rule that fires for this request, if any (and counts it)."""
        with self.lock:
            for rule in self.rules:
                if rule.get("method") and rule["method"] != method:
                    continue
                if rule.get("query") and rule["query"] not in params:
                    continue
                if rule.get("key") and rule["key"] not in path:
                    continue
                if rule["times"] <= 0:
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                rule["times"] -= 1
                return dict(rule)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def log_message(self, fmt, *args):  # the request log is written by note()
        pass

    def note(self, status):
        line = f"{self.command} {self.path} {status}"
        with self.server.seen_lock:
            self.server.seen.append(line)
        if self.server.log:
            print(line, file=self.server.log, flush=True)

    def read_body(self, limit=None):
        headers = {k.lower(): v for k, v in self.headers.items()}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(headers.get("content-length", "0") or "0")
        if limit is not None:
            length = min(length, limit)
        return self.rfile.read(length)

    def answer(self, status, body=b"", content_type="application/xml", extra=None):
        self.send_response(status)
        if body or self.command != "HEAD":
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.note(status)

    def fail(self, failure, resource):
        body = b"" if self.command == "HEAD" else error_body(
            failure.code, failure.message, resource, **failure.extra)
        self.answer(failure.status, body)

    def drop(self):
        self.note("dropped")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def control(self):
        if self.path == CONTROL_FAULTS and self.command == "POST":
            try:
                self.server.faults.add(json.loads(self.read_body() or b"{}"))
            except (ValueError, TypeError) as e:
                return self.answer(400, str(e).encode(), "text/plain")
            return self.answer(200, b"{}", "application/json")
        if self.path == CONTROL_FAULTS and self.command == "DELETE":
            self.server.faults.clear()
            return self.answer(200, b"{}", "application/json")
        if self.path == CONTROL_REQUESTS and self.command == "GET":
            with self.server.seen_lock:
                body = json.dumps(self.server.seen).encode()
            return self.answer(200, body, "application/json")
        return self.answer(404, b"no such control", "text/plain")

    def handle_any(self):
        if self.path.startswith(CONTROL_FAULTS) or self.path.startswith(CONTROL_REQUESTS):
            return self.control()
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        fault = self.server.faults.take(self.command, path, params)
        if fault and fault["action"] in ("drop", "hold") and self.command in ("PUT", "POST"):
            length = int(self.headers.get("Content-Length", "0") or "0")
            self.read_body(limit=length // 2)
            if fault["action"] == "hold":
                self.note("held")
                self.connection.settimeout(float(fault.get("seconds", 60)))
                try:
                    while self.connection.recv(65536):  # until the client goes or time is up
                        pass
                except OSError:
                    pass
            return self.drop()
        body = self.read_body()
        headers = {k.lower(): v.strip() for k, v in self.headers.items()}
        try:
            verify(self.command, self.path, headers, body, self.server.credentials,
                   self.server.region, datetime.datetime.now(datetime.timezone.utc))
        except S3Failure as failure:
            return self.fail(failure, path)
        if fault and fault["action"] == "status":
            status = int(fault.get("status", 500))
            return self.fail(S3Failure(status, fault.get("code", "InternalError"),
                                       fault.get("message", "injected fault")), path)
        self.forward(body, headers, drop=bool(fault and fault["action"] == "drop"))

    def forward(self, body, headers, drop):
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=120)
        try:
            out = {k: v for k, v in headers.items()
                   if k not in HOP_BY_HOP and k != "authorization" and k != "content-length"}
            if body or self.command in ("PUT", "POST"):
                out["content-length"] = str(len(body))
            upstream.request(self.command, self.path, body=body or None, headers=out)
            resp = upstream.getresponse()
            length = resp.getheader("Content-Length")
            buffered = None
            if self.command != "HEAD" and length is None:
                buffered = resp.read()
                length = str(len(buffered))
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            if self.command == "HEAD":
                return self.note(resp.status)
            # Streamed: objects may be larger than this process should hold.
            remaining = int(length or "0")
            if drop and self.command == "GET":
                remaining //= 2
            while remaining > 0:
                chunk = buffered if buffered is not None else resp.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                chunk = chunk[:remaining]
                self.wfile.write(chunk)
                remaining -= len(chunk)
                buffered = None if buffered is None else b""
            if drop and self.command == "GET":
                self.wfile.flush()
                return self.drop()
            self.note(resp.status)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def start_s3rver(directory, buckets):
    cmd = ["node", os.path.join(HERE, "s3", "run_s3rver.js"), "--directory", directory]
    for b in buckets:
        cmd += ["--bucket", b]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent)
    line = proc.stdout.readline()
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"s3-double: s3rver did not start: {line!r} (run scripts/setup: it "
                         "runs npm ci in test/doubles/s3)")
    return proc, int(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--directory", required=True)
    p.add_argument("--bucket", action="append", default=[])
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--access-key", default=DEFAULT_ACCESS_KEY)
    p.add_argument("--log", help="append one line per request to this file")
    p.add_argument("--tls-cert", help="serve https with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this key")
    p.add_argument("--detached", action="store_true",
                   help="keep running when the parent exits (start-s3 uses it)")
    a = p.parse_args()
    if not a.detached:
        die_with_parent()
    os.makedirs(a.directory, exist_ok=True)
    s3rver, upstream_port = start_s3rver(a.directory, a.bucket)

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.upstream_port = upstream_port
    server.region = a.region
    server.credentials = {a.access_key: os.environ.get("S3_DOUBLE_SECRET_KEY",
                                                       DEFAULT_SECRET_KEY)}
    server.faults = Faults()
    server.seen, server.seen_lock = [], threading.Lock()
    server.log = open(a.log, "a") if a.log else None
    scheme = "http"
    if a.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"

    def stop(*_):
        s3rver.kill()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"s3-double listening on {scheme}://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        s3rver.kill()


if __name__ == "__main__":
    main()
