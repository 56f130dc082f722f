"""manage's S3Store against the S3 test world: s3rver behind a front that checks
every signature with botocore, Debian's awscli as the other client, and faults
injected by the front. store_tool runs one store operation configured from the
environment exactly as manage's hooks are (SNAPSHOT_BACKEND and AWS_* or
MINIO_*)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO  # noqa: E402
from s3world import S3World  # noqa: E402

PREFIX = "team/mysql"
MiB = 1 << 20


def store_tool():
    path = os.environ.get("STORE_TOOL") or os.path.join(REPO, "build", "test", "integration",
                                                        "store_tool")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"store_tool not found at {path}: build first or set STORE_TOOL")
    return path


class S3StoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="manage-s3-")
        cls.world = S3World(cls.base).start()
        # 8 MiB parts: 20 MiB is three parts, the last one short.
        cls.big = os.urandom(20 * MiB)

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()
        shutil.rmtree(cls.base, ignore_errors=True)

    def tearDown(self):
        self.world.clear_faults()

    def tool(self, *args, data=None, **env_changes):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINIO_"))}
        env.update(self.world.env())
        env["SNAPSHOT_PREFIX"] = PREFIX
        env.update(env_changes)
        return subprocess.run([store_tool(), *args], input=data, capture_output=True, env=env,
                              timeout=300)

    def assert_one_error(self, result, *mentions):
        self.assertEqual(result.returncode, 1, result.stderr)
        errors = [line for line in result.stderr.decode().splitlines()
                  if line.startswith("store_tool: ") and "retrying" not in line]
        self.assertEqual(len(errors), 1, result.stderr)
        for m in mentions:
            self.assertIn(m, errors[0])
        self.assertNotIn(S3World.SECRET_KEY, result.stderr.decode())
        return errors[0]

    def assert_invisible(self, name):
        self.assertNotIn(f"{PREFIX}/{name}", self.world.keys(PREFIX))
        self.assertEqual(self.tool("stat", name).returncode, 1)

    def test_a_wrong_secret_gets_403(self):
        result = self.tool("put", "wrong-secret", data=b"x", AWS_SECRET_ACCESS_KEY="not-it")
        self.assert_one_error(result, "FailedPrecondition", "HTTP 403 SignatureDoesNotMatch",
                              "AWS_SECRET_ACCESS_KEY")
        self.assert_invisible("wrong-secret")
        # s3rver alone would have taken it: the front refused it.
        self.assertIn(f"PUT /backups/{PREFIX}/wrong-secret 403", self.world.requests())

    def test_manage_writes_awscli_lists_and_reads(self):
        for name, data in (("small", b"a small object"), ("large", self.big)):
            with self.subTest(name):
                put = self.tool("put", name, data=data)
                self.assertEqual(put.returncode, 0, put.stderr)
                self.assertEqual(self.world.keys(PREFIX)[f"{PREFIX}/{name}"], len(data))
                listing = self.world.aws("s3", "ls", f"s3://backups/{PREFIX}/").stdout.decode()
                self.assertIn(name, listing)
                got = self.world.aws("s3", "cp", f"s3://backups/{PREFIX}/{name}", "-").stdout
                self.assertEqual(got, data)
        parts = [r for r in self.world.requests() if "/large?partNumber=" in r]
        self.assertEqual(len(parts), 3, parts)

    def test_awscli_writes_manage_reads(self):
        self.world.aws("s3", "cp", "-", f"s3://backups/{PREFIX}/from-aws", input=self.big)
        got = self.tool("get", "from-aws")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, self.big)
        listed = self.tool("list", "from-")
        self.assertEqual(listed.stdout.decode().split(), ["from-aws", str(len(self.big))])
        stat = self.tool("stat", "from-aws")
        self.assertEqual(stat.stdout.decode().split()[:2], ["from-aws", str(len(self.big))])

    def test_original_minio_variables_work(self):
        env = self.world.env(variables="minio")
        clear = {k: "" for k in self.world.env()}
        put = self.tool("put", "via-minio-vars", data=b"m", **{**clear, **env})
        self.assertEqual(put.returncode, 0, put.stderr)
        self.assertEqual(self.world.keys(PREFIX)[f"{PREFIX}/via-minio-vars"], 1)

    def test_transient_faults_are_retried(self):
        cases = [
            ("a part answered 500, then 200",
             dict(method="PUT", query="partNumber", action="status", status=500,
                  code="InternalError", skip=1)),
            ("a part's connection dropped mid-upload",
             dict(method="PUT", query="partNumber", action="drop")),
            ("the completion answered 503 SlowDown",
             dict(method="POST", query="uploadId", action="status", status=503, code="SlowDown")),
        ]
        for i, (name, rule) in enumerate(cases):
            with self.subTest(name):
                self.world.clear_faults()
                self.world.fault(**rule)
                put = self.tool("put", f"retried-{i}", data=self.big)
                self.assertEqual(put.returncode, 0, put.stderr)
                self.assertIn(b"retrying", put.stderr)
                got = self.world.aws("s3", "cp", f"s3://backups/{PREFIX}/retried-{i}", "-").stdout
                self.assertEqual(got, self.big)

    def test_final_faults_give_one_error_and_leave_nothing(self):
        cases = [
            ("a part answered 403", dict(method="PUT", query="partNumber", action="status",
                                         status=403, code="AccessDenied"),
             ("FailedPrecondition", "HTTP 403 AccessDenied", "AWS_ACCESS_KEY_ID")),
            ("every attempt of a part dropped", dict(method="PUT", query="partNumber",
                                                     action="drop", times=100),
             ("Unavailable", "gave up after")),
            ("the completion refused", dict(method="POST", query="uploadId", action="status",
                                            status=400, code="InvalidPart"),
             ("Internal", "InvalidPart")),
        ]
        for i, (name, rule, mentions) in enumerate(cases):
            with self.subTest(name):
                self.world.clear_faults()
                self.world.fault(**rule)
                put = self.tool("put", f"failed-{i}", data=self.big)
                self.assert_one_error(put, f"s3://backups/{PREFIX}/failed-{i}", *mentions)
                self.world.clear_faults()
                self.assert_invisible(f"failed-{i}")
                aborts = [r for r in self.world.requests()
                          if r.startswith(f"DELETE /backups/{PREFIX}/failed-{i}?uploadId=")]
                self.assertEqual(len(aborts), 1, self.world.requests())

    def test_a_wrong_region_is_named(self):
        put = self.tool("put", "x", data=b"x", AWS_REGION="eu-west-1")
        self.assert_one_error(put, "FailedPrecondition", "AuthorizationHeaderMalformed",
                              "AWS_REGION")

    def test_a_missing_bucket_is_named(self):
        put = self.tool("put", "x", data=b"x", AWS_BUCKET="no-such-bucket")
        self.assert_one_error(put, "FailedPrecondition", "bucket 'no-such-bucket'")
        listed = self.tool("list", "", AWS_BUCKET="no-such-bucket")
        self.assert_one_error(listed, "bucket 'no-such-bucket'")

    def test_a_read_cut_off_resumes_where_it_stopped(self):
        put = self.tool("put", "resumed", data=self.big)
        self.assertEqual(put.returncode, 0, put.stderr)
        self.world.fault(method="GET", key="/resumed", action="drop")
        got = self.tool("get", "resumed")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, self.big)
        seen = [r for r in self.world.requests() if r.startswith(f"GET /backups/{PREFIX}/resumed")]
        self.assertEqual(seen[-2:], [f"GET /backups/{PREFIX}/resumed dropped",
                                     f"GET /backups/{PREFIX}/resumed 206"])

    def test_remove(self):
        self.assertEqual(self.tool("put", "gone", data=b"g").returncode, 0)
        self.assertEqual(self.tool("rm", "gone").returncode, 0)
        self.assert_invisible("gone")
        self.assert_one_error(self.tool("rm", "gone"), "NotFound")


if __name__ == "__main__":
    unittest.main()
