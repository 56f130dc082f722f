"""The Manta double (test/doubles/manta) from Python, for integration tests
and the benchmark: start it, point manage at it, inject faults, read its
request log, and stream into it with `curl -T -` (the benchmark's floor).

    manta = MantaDouble(base_dir).start()    # account "manage", test keys
    env = manta.env()                        # MANTA_* for a node's environment
    manta.put_stream("/manage/stor/x", stream)
    manta.set_faults([{"method": "PUT", "action": "drop", "after_bytes": 1 << 20}])
    manta.stop()

The double exits by itself when the Python process that started it does.
"""

import json
import os
import subprocess
import time
import urllib.request

DOUBLES = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(os.path.dirname(DOUBLES), "data", "manta-keys")
ACCOUNT = "manage"
# MD5 fingerprints of the test keys (test/data/manta-keys/README.md).
FINGERPRINTS = {
    "rsa": "dc:42:88:46:f0:c1:f2:08:5c:ca:b7:1c:aa:67:b1:86",
    "other-rsa": "0e:13:fa:08:a7:a9:ef:e3:98:52:81:73:67:c8:65:ce",
    "ecdsa256": "58:3c:af:fe:59:1f:7a:78:db:7b:0d:15:ed:00:e4:81",
    "ecdsa384": "b1:b0:c5:34:7d:65:58:20:63:d7:d4:b1:49:7b:ce:23",
    "ecdsa521": "b3:b7:0f:bd:dc:a4:27:8d:c2:56:3d:64:20:34:b3:e1",
}


class MantaDouble:
    def __init__(self, base_dir, accounts=None, max_streaming_mb=None):
        self.dir = os.path.join(base_dir, "manta")
        self.accounts = accounts or os.path.join(DOUBLES, "manta", "test-accounts.json")
        self.max_streaming_mb = max_streaming_mb
        self.proc = None
        self.url = None
        self.log_path = os.path.join(self.dir, "manta.log")

    def start(self, timeout=15):
        os.makedirs(self.dir, exist_ok=True)
        if not os.path.isdir(os.path.join(DOUBLES, "manta", "node_modules", "http-signature")):
            raise RuntimeError("the Manta double's npm packages are missing: run scripts/setup")
        cmd = ["node", os.path.join(DOUBLES, "manta", "manta_double.js"),
               "--accounts", self.accounts, "--data", os.path.join(self.dir, "data"),
               "--port", "0", "--exit-with", str(os.getpid())]
        if self.max_streaming_mb:
            cmd += ["--max-streaming-mb", str(self.max_streaming_mb)]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    if line.startswith("manta-double listening on "):
                        self.url = line.split(" on ", 1)[1].strip()
                        return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the Manta double did not start; see " + self.log_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def env(self, key="rsa", subuser=None, role=None, bucket=None, fold=True):
        """The original's MANTA_* variables for this double. The private key's
        newlines are written as '#', as the original's env files carry it."""
        with open(os.path.join(KEYS, key)) as f:
            private_key = f.read().strip()
        env = {
            "MANTA_URL": self.url,
            "MANTA_USER": ACCOUNT,
            "MANTA_KEY_ID": FINGERPRINTS[key],
            "MANTA_PRIVATE_KEY": private_key.replace("\n", "#") if fold else private_key,
        }
        if subuser:
            env["MANTA_SUBUSER"] = subuser
        if role:
            env["MANTA_ROLE"] = role
        if bucket:
            env["MANTA_BUCKET"] = bucket
        return env

    def _admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def set_faults(self, faults):
        """Replaces the list of faults to inject (see test/doubles/manta/README.md)."""
        self._admin("PUT", "/.double/faults", faults)

    def requests(self):
        """Every request the double answered, oldest first (method, path, status,
        outcome, keyId, role, chunked, bytes, range)."""
        return self._admin("GET", "/.double/log")

    def objects(self, directory):
        """Names of the objects stored in `directory` (e.g. /manage/stor/mysql), read
        from the double's data directory; [] when it does not exist."""
        tree = os.path.join(self.dir, "data", "tree") + directory
        if not os.path.isdir(tree):
            return []
        return sorted(n for n in os.listdir(tree) if os.path.isfile(os.path.join(tree, n)))

    def get_stream(self, path, stdout):
        """Streams object `path` into `stdout` with curl, signed as put_stream
        signs: the read floor. Returns curl's exit code."""
        cmd = [os.path.join(DOUBLES, "manta-put"), "--get", self.url, path]
        return subprocess.run(cmd, stdout=stdout, check=False).returncode

    def put_stream(self, path, stdin, max_content_length=None):
        """Streams `stdin` (a file object or pipe) into object `path` with
        `curl -T -`, chunked, signed with the test RSA key: the standard tool
        writing the same stream to the same place. Returns curl's exit code."""
        cmd = [os.path.join(DOUBLES, "manta-put"), self.url, path]
        if max_content_length:
            cmd += ["--max-content-length", str(max_content_length)]
        return subprocess.run(cmd, stdin=stdin, check=False).returncode
