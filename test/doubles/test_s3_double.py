"""The S3 double's front: it must refuse what S3 refuses (a wrong secret above
all: s3rver alone accepts any) and pass what S3 accepts, and its faults must
fire as described. Requests are signed here with botocore, AWS's own signer."""

import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from s3world import S3World  # noqa: E402

try:
    import botocore  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


class QueryAsWrittenAuth(S3SigV4Auth):
    """Signs the query exactly as written, unsorted, as libcurl 7.88 does."""

    def canonical_query_string(self, request):
        return urllib.parse.urlsplit(request.url).query


class S3DoubleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.world = S3World(cls.tmp.name).start()

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        self.world.clear_faults()

    def send(self, method, path, body=b"", headers=None, secret=None, access_key=None,
             signer=S3SigV4Auth, tamper=None):
        """Signs with botocore and sends; returns (status, body)."""
        url = self.world.endpoint + path
        h = {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
        h.update(headers or {})
        req = AWSRequest(method=method, url=url, data=body, headers=h)
        creds = Credentials(access_key or S3World.ACCESS_KEY, secret or S3World.SECRET_KEY)
        signer(creds, "s3", self.world.region).add_auth(req)
        sent = dict(req.headers.items())
        if tamper:
            body = tamper(sent, body)
        conn = http.client.HTTPConnection(self.world.hostport, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=sent)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def test_a_correctly_signed_request_passes(self):
        status, body = self.send("PUT", "/backups/t/a", b"hello")
        self.assertEqual(status, 200, body)
        status, body = self.send("GET", "/backups/t/a")
        self.assertEqual((status, body), (200, b"hello"))
        status, body = self.send("GET", "/backups?list-type=2&prefix=t%2F")
        self.assertEqual(status, 200, body)
        self.assertIn(b"<Key>t/a</Key>", body)

    def test_a_wrong_secret_gets_403_signature_does_not_match(self):
        status, body = self.send("GET", "/backups?list-type=2", secret="not-the-secret")
        self.assertEqual(status, 403, body)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        status, body = self.send("PUT", "/backups/t/wrong", b"x", secret="not-the-secret")
        self.assertEqual(status, 403, body)
        status, _ = self.send("HEAD", "/backups/t/wrong")
        self.assertEqual(status, 404)  # the refused PUT never reached s3rver

    def test_what_s3_refuses_is_refused(self):
        cases = [
            ("unknown access key", dict(access_key="AKIDUNKNOWN"), 403, b"InvalidAccessKeyId"),
            ("query signed unsorted", dict(signer=QueryAsWrittenAuth), 403,
             b"SignatureDoesNotMatch"),
            ("payload not the signed hash",
             dict(tamper=lambda headers, body: b"y"), 400, b"XAmzContentSHA256Mismatch"),
            ("no signature", dict(tamper=lambda headers, body: headers.pop("Authorization")
                                  and body), 403, b"AccessDenied"),
            ("an unsigned x-amz header",
             dict(tamper=lambda headers, body: headers.update({"x-amz-meta-a": "1"}) or body),
             403, b"AccessDenied"),
            ("a stale date",
             dict(tamper=lambda headers, body: headers.update(
                 {"X-Amz-Date": "20130524T000000Z"}) or body), None, None),
        ]
        for name, kwargs, want, code in cases:
            with self.subTest(name):
                path = "/backups?prefix=b&list-type=2" if name == "query signed unsorted" \
                    else "/backups/t/refused"
                method = "GET" if name == "query signed unsorted" else "PUT"
                status, body = self.send(method, path, b"x" if method == "PUT" else b"",
                                         **kwargs)
                if code is None:
                    self.assertIn(status, (400, 403), body)
                else:
                    self.assertEqual(status, want, body)
                    self.assertIn(code, body)
        status, _ = self.send("HEAD", "/backups/t/refused")
        self.assertEqual(status, 404)

    def test_faults_fire_as_many_times_as_asked(self):
        self.world.fault(method="PUT", key="/t/f", action="status", status=500,
                         code="InternalError", times=1)
        status, body = self.send("PUT", "/backups/t/f", b"1")
        self.assertEqual(status, 500)
        self.assertIn(b"InternalError", body)
        status, _ = self.send("PUT", "/backups/t/f", b"1")
        self.assertEqual(status, 200)
        self.world.fault(method="GET", key="/t/f", action="drop", skip=1)
        self.assertEqual(self.send("GET", "/backups/t/f")[0], 200)  # skipped
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.send("GET", "/backups/t/f")
        self.world.fault(method="PUT", key="/t/g", action="drop")
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.send("PUT", "/backups/t/g", b"z" * 100000)
        self.assertEqual(self.send("HEAD", "/backups/t/g")[0], 404)
        self.assertTrue(any(r.startswith("PUT /backups/t/g dropped")
                            for r in self.world.requests()))

    def test_a_held_upload_gets_no_answer_and_leaves_nothing(self):
        self.world.fault(method="PUT", key="/t/h", action="hold", seconds=30)
        started = time.monotonic()
        with self.assertRaises((TimeoutError, OSError)):
            conn = http.client.HTTPConnection(self.world.hostport, timeout=2)
            try:
                conn.request("PUT", "/backups/t/h", body=b"h" * 100000)
                conn.getresponse()
            finally:
                conn.close()
        self.assertLess(time.monotonic() - started, 10)
        self.assertTrue(any(r.startswith("PUT /backups/t/h held") for r in self.world.requests()))
        self.assertEqual(self.send("HEAD", "/backups/t/h")[0], 404)

    def test_awscli_works_through_the_front(self):
        self.world.aws("s3", "cp", "-", "s3://backups/cli/one", input=b"from awscli")
        self.assertEqual(self.world.aws("s3", "cp", "s3://backups/cli/one", "-").stdout,
                         b"from awscli")
        self.assertEqual(self.world.keys("cli/"), {"cli/one": 11})


def alive(pid):
    """False once `pid` has exited (a zombie waiting for its reaper has too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class StartS3Test(unittest.TestCase):
    def test_start_s3_starts_detached_and_stops(self):
        with tempfile.TemporaryDirectory() as tmp:
            pidfile = os.path.join(tmp, "s3.pid")
            start = [os.path.join(HERE, "start-s3"), "--pidfile", pidfile]
            out = subprocess.run(start + ["--directory", os.path.join(tmp, "data"), "--bucket",
                                          "backups"], capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            endpoint = out.stdout.strip()
            self.assertRegex(endpoint, r"^http://127\.0\.0\.1:\d+$")
            with urllib.request.urlopen(endpoint + "/__requests__", timeout=10) as resp:
                self.assertEqual(json.loads(resp.read()), [])
            with open(pidfile) as f:
                pid = int(f.read())
            subprocess.run(start + ["--stop"], check=True, timeout=60)
            self.assertFalse(os.path.exists(pidfile))
            self.assertFalse(alive(pid))


if __name__ == "__main__":
    unittest.main()
