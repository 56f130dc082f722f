"""Tests for relay.py: it relays both ways, and black-holes on SIGUSR1 until SIGUSR2."""

import http.server
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
from pathlib import Path

RELAY = Path(__file__).resolve().parent / "relay.py"


class Upstream(http.server.ThreadingHTTPServer):
    """Answers every GET with its path."""

    daemon_threads = True

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                body = self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class RelayTest(unittest.TestCase):
    def setUp(self):
        self.upstream = Upstream()
        self.addCleanup(self.upstream.server_close)
        self.addCleanup(self.upstream.shutdown)
        self.proc = subprocess.Popen(
            [sys.executable, str(RELAY), "--upstream",
             "127.0.0.1:%d" % self.upstream.server_address[1]],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(self.proc.wait, 10)
        self.addCleanup(self.proc.terminate)
        match = re.search(r"listening on ([\d.]+):(\d+)", self.proc.stdout.readline())
        self.url = "http://%s:%s" % match.groups()

    def get(self, path, timeout=2):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
            return resp.read().decode()

    def test_relays_requests_both_ways(self):
        for i in range(50):
            self.assertEqual(self.get("/n%d" % i), "/n%d" % i)

    def test_a_black_hole_holds_requests_until_it_ends(self):
        self.assertEqual(self.get("/before"), "/before")
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        start = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError, OSError)):
            self.get("/during", timeout=1)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        self.proc.send_signal(signal.SIGUSR2)
        time.sleep(0.3)
        self.assertEqual(self.get("/after"), "/after")


if __name__ == "__main__":
    unittest.main()
