"""The S3 test world from Python, for tests and the benchmark: s3rver behind the
SigV4-verifying front (test/doubles/s3_double.py), its fault injection, the
environment that points manage at it, and Debian's awscli against it.

    world = S3World(base_dir).start()
    env = world.env()                 # SNAPSHOT_BACKEND=s3 and AWS_* for manage
    world.aws("s3", "ls", "s3://backups/")
    world.fault(method="PUT", query="partNumber", action="status", status=500)
    world.stop()

The front is a child of this process and dies with it.
"""

import json
import os
import re
import shutil
import subprocess
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLE = os.path.join(REPO, "test", "doubles", "s3_double.py")
# Debian's awscli and interpreter by path: a pyenv shim named `aws` or
# `python3` may come first on PATH.
AWS_CLI = "/usr/bin/aws"
DEBIAN_PYTHON = "/usr/bin/python3"


class S3World:
    ACCESS_KEY = "MANAGETESTACCESSKEY"
    SECRET_KEY = "manage-test-secret-key"

    def __init__(self, base_dir, bucket="backups", region="us-east-1", tls=False):
        self.dir = os.path.join(base_dir, "s3")
        # https with a certificate of its own (AWS_CA_BUNDLE), as production
        # stores are reached: S3Store then sends data as UNSIGNED-PAYLOAD.
        self.tls = tls
        self.ca_file = os.path.join(self.dir, "ca.pem")
        self.bucket = bucket
        self.region = region
        self.proc = None
        self.endpoint = None
        self.log_path = os.path.join(self.dir, "requests.log")

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        python = DEBIAN_PYTHON if os.access(DEBIAN_PYTHON, os.X_OK) else shutil.which("python3")
        env = dict(os.environ, S3_DOUBLE_SECRET_KEY=self.SECRET_KEY)
        tls_args = []
        if self.tls:
            key = os.path.join(self.dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", self.ca_file], check=True,
                           capture_output=True, timeout=60)
            tls_args = ["--tls-cert", self.ca_file, "--tls-key", key]
        self.proc = subprocess.Popen(
            [python, DOUBLE, "--directory", os.path.join(self.dir, "data"), "--bucket",
             self.bucket, "--region", self.region, "--access-key", self.ACCESS_KEY,
             "--log", self.log_path] + tls_args,
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.match(r"s3-double listening on (https?://\S+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"the S3 double did not start: {line!r}")
        self.endpoint = m.group(1)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
        self.proc = None

    @property
    def hostport(self):
        return self.endpoint.split("://", 1)[1]

    def _control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def fault(self, **rule):
        """Injects a fault (see s3_double.py): method, query, key, skip, times, action..."""
        self._control("POST", "/__faults__", rule)

    def clear_faults(self):
        self._control("DELETE", "/__faults__")

    def requests(self):
        """Every request the front saw: "METHOD path?query STATUS"."""
        return self._control("GET", "/__requests__")

    def env(self, secret=None, variables="aws", bucket=None):
        """What manage needs to use this world: AWS's variables, or the original
        manage.py's MINIO_* ones (variables="minio")."""
        secret = self.SECRET_KEY if secret is None else secret
        bucket = bucket or self.bucket
        if variables == "minio":
            return {"SNAPSHOT_BACKEND": "minio", "MINIO_URL": self.hostport,
                    "MINIO_ACCESS_KEY": self.ACCESS_KEY, "MINIO_SECRET_KEY": secret,
                    "MINIO_BUCKET": bucket, "MINIO_LOCATION": self.region}
        env = {"SNAPSHOT_BACKEND": "s3", "AWS_ENDPOINT_URL": self.endpoint,
               "AWS_ACCESS_KEY_ID": self.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": secret,
               "AWS_REGION": self.region, "AWS_BUCKET": bucket}
        if self.tls:
            env["AWS_CA_BUNDLE"] = self.ca_file
        return env

    def aws(self, *args, input=None, stdin=None, check=True, timeout=300):
        """Runs Debian's awscli against this world; returns the CompletedProcess.
        `stdin` (a file object) streams into it, for `aws s3 cp - ...`."""
        env = {"PATH": "/usr/bin:/bin", "HOME": self.dir, "LANG": "C.UTF-8",
               "AWS_ACCESS_KEY_ID": self.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": self.SECRET_KEY,
               "AWS_DEFAULT_REGION": self.region, "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_PAGER": ""}
        if self.tls:
            env["AWS_CA_BUNDLE"] = self.ca_file
        streams = {"input": input} if stdin is None else {"stdin": stdin}
        return subprocess.run([AWS_CLI, "--endpoint-url", self.endpoint, *args], **streams,
                              capture_output=True, env=env, check=check, timeout=timeout)

    def keys(self, prefix=""):
        """{key: size} of the bucket's objects under prefix, as awscli lists them."""
        out = self.aws("s3api", "list-objects-v2", "--bucket", self.bucket, "--prefix", prefix,
                       "--output", "json").stdout
        listing = json.loads(out or b"{}")
        return {o["Key"]: o["Size"] for o in listing.get("Contents", [])}
