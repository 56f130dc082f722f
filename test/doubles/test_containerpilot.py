"""Tests for the ContainerPilot 3 stand-in (containerpilot.py).

Table tests cover template rendering, JSON5 and durations in-process; the rest
run the stand-in as a child process against FakeConsul, an in-process HTTP
server that records every request.  Intervals are fractions of a second so
the whole file runs in well under a minute.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import containerpilot as cp

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "containerpilot.py")
HOST = socket.gethostname()


def wait_until(predicate, timeout=5.0):
    """Polls predicate until it is true or timeout passes; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        return handle.read().split(") ")[1][0] != "Z"


def instance(service, node_id, address, port=3306):
    """One element of GET /v1/health/service/<name> as Consul returns it."""
    return {"Node": {"Node": node_id, "Address": address},
            "Service": {"ID": f"{service}-{node_id}", "Service": service,
                        "Address": address, "Port": port, "Tags": [], "Meta": {}},
            "Checks": []}


class FakeConsul:
    """A Consul agent stand-in for these tests: records requests, serves health."""

    def __init__(self):
        self.requests = []
        self.services = {}
        self.state_lost = False  # set: check updates answer as an agent that lost them
        self.answering = threading.Event()  # cleared: check updates get no answer
        self.answering.set()
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                with fake._lock:
                    fake.requests.append((self.command, self.path, body))
                    name = self.path.split("?")[0].rsplit("/", 1)[-1]
                    services = list(fake.services.get(name, []))
                reply = json.dumps(services).encode() if self.command == "GET" else b""
                status = 200
                if self.path.startswith("/v1/agent/check/update/"):
                    fake.answering.wait()
                if fake.state_lost and self.path.startswith("/v1/agent/check/update/"):
                    # consul: agent.go updateTTLCheck, for a check it does not know
                    check = self.path.rsplit("/", 1)[1]
                    status, reply = 500, f'CheckID "{check}" does not have associated TTL'.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.answering.set()
        self.server.shutdown()
        self.server.server_close()

    def set_passing(self, name, instances):
        with self._lock:
            self.services[name] = instances

    def calls(self, method, path_prefix):
        with self._lock:
            return [r for r in self.requests
                    if r[0] == method and r[1].startswith(path_prefix)]


class StandIn:
    """The stand-in running in a temporary directory with a given config."""

    def __init__(self, workdir, config, env=None):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "cp.sock")
        self.config_path = os.path.join(workdir, "containerpilot.json5")
        with open(self.config_path, "w", encoding="utf-8") as handle:
            handle.write(config.replace("SOCKET", self.socket))
        self.env = dict(os.environ, **(env or {}))
        self.log_path = os.path.join(workdir, "containerpilot.log")
        self.proc = None

    def start(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, STANDIN, "-config", self.config_path],
                cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def client(self, *args):
        return subprocess.run([sys.executable, STANDIN, "-config", self.config_path, *args],
                              env=self.env, capture_output=True, text=True, timeout=20)

    def terminate(self, timeout=15):
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self):
        """Cleanup: a graceful stop so no job outlives the test, SIGKILL if stuck."""
        if self.proc and self.proc.poll() is None:
            try:
                self.terminate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def path(self, name):
        return os.path.join(self.workdir, name)

    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


class TemplateTest(unittest.TestCase):
    CASES = [
        ("{{ .A }}", {"A": "x"}, "x"),
        ("[{{ .MISSING }}]", {}, "[]"),
        ('{{ .CONSUL | default "consul" }}', {}, "consul"),
        ('{{ .CONSUL | default "consul" }}', {"CONSUL": "c1"}, "c1"),
        ('{{ default "9" .P }}', {}, "9"),
        ("port: {{ .PORT | default 3306 }}", {}, "port: 3306"),
        ("{{ if .X }}yes{{ else }}no{{ end }}", {"X": "1"}, "yes"),
        ("{{ if .X }}yes{{ else }}no{{ end }}", {"X": ""}, "no"),
        ("{{ if not .X }}absent{{ end }}", {}, "absent"),
        ("{{ if not .X }}absent{{ end }}", {"X": "1"}, ""),
        ('{{ if eq .R "p" }}P{{ else if .R }}other{{ else }}none{{ end }}',
         {"R": "r"}, "other"),
        ("{{ if .A }}{{ if .B }}ab{{ else }}a{{ end }}{{ end }}", {"A": "1"}, "a"),
        ("a  {{- .X -}}  b", {"X": "m"}, "amb"),
        ("x,\n  {{- if .N }}\n  n: 1,\n  {{- end }}\ny", {"N": "1"}, "x,\n  n: 1,\ny"),
        ("{{/* note */}}z", {}, "z"),
        ('{{ .L | split ":" | join "." }}', {"L": "a:b:c"}, "a.b.c"),
        ('{{ .N | replaceAll "e" "_" }}', {"N": "Template"}, "T_mplat_"),
        ('{{ .C | regexReplaceAll "^([^:]+)$" "${1}:8500" }}', {"C": "consul"}, "consul:8500"),
        ('{{ .C | regexReplaceAll "^([^:]+)$" "${1}:8500" }}', {"C": "c:1"}, "c:1"),
        ('{{ .P | default (.Q | default "5") }}', {}, "5"),
        ('{{ .P | default (.Q | default "5") }}', {"Q": "3"}, "3"),
        ('{{ $on := eq .X "1" "yes" }}{{ if $on }}on{{ else }}off{{ end }}', {"X": "yes"}, "on"),
        ('{{ $on := eq .X "1" "yes" }}{{ if $on }}on{{ else }}off{{ end }}', {"X": "no"}, "off"),
        ('{{ $v := "a" }}{{ if .X }}{{ $v = "b" }}{{ end }}{{ $v }}', {"X": "1"}, "b"),
        ('{{ $v := "a" }}{{ if .X }}{{ $v := "b" }}{{ end }}{{ $v }}', {"X": "1"}, "a"),
    ]

    def test_renders_table(self):
        for text, env, want in self.CASES:
            with self.subTest(text=text, env=env):
                self.assertEqual(cp.render_template(text, env), want)

    def test_rejects_bad_templates(self):
        for text in ("{{ if .X }}open", "{{ end }}", "{{ nosuch .X }}", "{{ $nope }}",
                     "{{ if .X }}{{ $v := 1 }}{{ end }}{{ $v }}",
                     "{{ range .X }}{{ end }}", '{{ .X "arg" }}'):
            with self.subTest(text=text):
                with self.assertRaises(cp.ConfigError):
                    cp.render_template(text, {"X": "1"})


class Json5Test(unittest.TestCase):
    CASES = [
        ('{a: 1, "b": \'two\', c: [1, 2,],}', {"a": 1, "b": "two", "c": [1, 2]}),
        ("// lead\n{ /* inline */ k: null, t: true, f: false }",
         {"k": None, "t": True, "f": False}),
        ("[0x1F, +5, -2.5, .5, 1e3, -0x10]", [31, 5, -2.5, 0.5, 1000.0, -16]),
        (r'["a\nb", "\u0041", "it\'s", ' + "'say \"hi\"']",
         ["a\nb", "A", "it's", 'say "hi"']),
        ('{$key_1: "x" , nested: {deep: [{}]}}', {"$key_1": "x", "nested": {"deep": [{}]}}),
        ("  42  ", 42),
    ]

    def test_parses_table(self):
        for text, want in self.CASES:
            with self.subTest(text=text):
                self.assertEqual(cp.parse_json5(text), want)

    def test_rejects_bad_input(self):
        for text in ("{a: }", "{a 1}", "[1 2]", '"open', "{a: 1} x", "/* open",
                     "{,}", "[1,,2]", "{1: 2}"):
            with self.subTest(text=text):
                with self.assertRaises(cp.ConfigError):
                    cp.parse_json5(text)


class ConfigTest(unittest.TestCase):
    def test_durations(self):
        for value, want in ((5, 5.0), ("10", 10.0), ("500ms", 0.5), ("1m30s", 90.0),
                            ("5m", 300.0), ("1h", 3600.0), (None, 0.0)):
            with self.subTest(value=value):
                self.assertAlmostEqual(cp.parse_duration(value), want)
        for bad in ("5x", "s", "1m x", True):
            with self.subTest(bad=bad), self.assertRaises(cp.ConfigError):
                cp.parse_duration(bad)

    def test_job_fields(self):
        raw = {"name": "snapshot", "exec": "/bin/task  --flag  x",
               "when": {"interval": "5m"}}
        job = cp.JobConfig(raw, 5.0)
        self.assertEqual(job.exec_args, ["/bin/task", "--flag", "x"])
        self.assertEqual((job.restarts, job.exec_timeout), (cp.UNLIMITED, 300.0))
        self.assertEqual(cp.JobConfig({"name": "a", "exec": "x", "restarts": 3}, 5).restarts, 3)
        self.assertEqual(cp.JobConfig({"name": "a", "exec": "x"}, 5).restarts, 0)
        for bad in ({"name": "a", "exec": "x", "restarts": "often"},
                    {"name": "a", "exec": "x", "restarts": "unlimited",
                     "when": {"source": "b", "each": "changed"}},
                    {"name": "a", "exec": "x", "when": {"source": "b", "once": "nope"}},
                    {"name": "mysql", "port": 3306},
                    {"name": "Bad_Name", "port": 1, "health": {"interval": 1, "ttl": 2}}):
            with self.subTest(bad=bad), self.assertRaises(cp.ConfigError):
                cp.JobConfig(bad, 5.0)

    def test_registration_body_with_consul_extras(self):
        raw = {"name": "mysql", "port": 3306, "tags": ["a"],
               "interfaces": ["static:10.1.2.3"], "health": {"interval": 5, "ttl": 25},
               "consul": {"enableTagOverride": True,
                          "deregisterCriticalServiceAfter": "10m"}}
        service = cp.Service(cp.JobConfig(raw, 5.0), None, None)
        self.assertEqual(json.dumps(service.registration("passing"), separators=(",", ":")),
                         '{"ID":"mysql-%s","Name":"mysql","Tags":["a"],"Port":3306,'
                         '"Address":"10.1.2.3","EnableTagOverride":true,"Check":{"TTL":"25s",'
                         '"Status":"passing","Notes":"TTL for mysql set by containerpilot",'
                         '"DeregisterCriticalServiceAfter":"10m"},"Checks":null}' % HOST)

    def test_interface_specs(self):
        self.assertEqual(cp.resolve_ip(["static:127.0.0.2"]), "127.0.0.2")
        self.assertEqual(cp.resolve_ip(["nosuchif0", "127.0.0.0/8"]), "127.0.0.1")
        self.assertEqual(cp.resolve_ip(["nosuchif0"]), "127.0.0.1")
        with self.assertRaises(cp.ConfigError):
            cp.resolve_ip(["static:not-an-ip"])


class StandInTestCase(unittest.TestCase):
    """Starts FakeConsul and a temporary directory for one stand-in run."""

    def setUp(self):
        self.consul = FakeConsul()
        self.addCleanup(self.consul.close)
        self.workdir = tempfile.mkdtemp(prefix="cp-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def launch(self, jobs, watches="[]", extra="", env=None):
        if "stopTimeout" not in extra:
            extra += " stopTimeout: 1,"  # each stop waits it out, as ContainerPilot does
        config = ('{ consul: "%s", control: { socket: "SOCKET" }, %s jobs: %s, watches: %s }'
                  % (self.consul.address, extra, jobs, watches))
        standin = StandIn(self.workdir, config, env).start()
        self.addCleanup(standin.stop)
        self.standin = standin
        return standin

    def registrations(self):
        return self.consul.calls("PUT", "/v1/agent/service/register")

    def heartbeats(self, name="mysql"):
        return self.consul.calls("PUT", f"/v1/agent/check/update/service:{name}-{HOST}")


MARKER_SERVICE = """[{
    name: "mysql", port: 3306, interfaces: ["static:127.0.0.2"],
    health: { exec: ["sh", "-c", "test -e marker && echo x >> passes"],
              interval: 0.2, ttl: 25 },
}]"""


class RegistrationTest(StandInTestCase):
    def test_registers_only_after_first_passing_check_with_exact_body(self):
        standin = self.launch(MARKER_SERVICE)
        time.sleep(1.0)
        self.assertEqual(self.consul.requests, [], standin.output())
        open(standin.path("marker"), "w").close()
        self.assertTrue(wait_until(self.registrations), standin.output())
        want = ('{"ID":"mysql-%s","Name":"mysql","Port":3306,"Address":"127.0.0.2",'
                '"Check":{"TTL":"25s","Status":"passing","Notes":"TTL for mysql set by '
                'containerpilot"},"Checks":null}' % HOST)
        self.assertEqual(self.registrations(), [("PUT", "/v1/agent/service/register", want)])

    def test_heartbeat_per_passing_check_and_none_while_failing(self):
        standin = self.launch(MARKER_SERVICE)
        open(standin.path("marker"), "w").close()
        self.assertTrue(wait_until(lambda: len(self.heartbeats()) >= 3), standin.output())
        self.assertTrue(all(body == '{"Status":"passing","Output":"ok"}'
                            for _, _, body in self.heartbeats()))
        os.unlink(standin.path("marker"))
        time.sleep(0.5)
        failing_from = len(self.heartbeats())
        time.sleep(1.0)
        self.assertEqual(len(self.heartbeats()), failing_from)
        self.assertEqual(len(read_lines(standin.path("passes"))), failing_from)
        self.assertEqual(len(self.registrations()), 1)

    def test_never_registers_again_after_consul_lost_the_service(self):
        # containerpilot.md: once registered, 3.8.0 never registers again; an
        # agent that lost the service answers every heartbeat with a 500.
        standin = self.launch(MARKER_SERVICE)
        open(standin.path("marker"), "w").close()
        self.assertTrue(wait_until(lambda: len(self.heartbeats()) >= 2), standin.output())
        self.consul.state_lost = True
        lost_at = len(self.heartbeats())
        self.assertTrue(wait_until(lambda: len(self.heartbeats()) >= lost_at + 5),
                        standin.output())
        self.assertEqual(len(self.registrations()), 1, standin.output())
        self.assertIn('does not have associated TTL', standin.output())
        self.assertIsNone(standin.proc.poll())

    def test_a_check_outlasting_the_interval_is_followed_at_once(self):
        # commands.go: Run blocks on the previous run's lock, so the next check
        # starts when the previous one ends, not at the next tick.
        standin = self.launch("""[{ name: "mysql", port: 3306, interfaces: ["static:127.0.0.2"],
            health: { exec: ["sh", "-c", "date +%s.%N >> starts; sleep 1.2; date +%s.%N >> ends"],
                      interval: 1, ttl: 25, timeout: "5s" } }]""")
        self.assertTrue(wait_until(lambda: len(read_lines(standin.path("starts"))) >= 3, 8),
                        standin.output())
        starts = [float(t) for t in read_lines(standin.path("starts"))]
        ends = [float(t) for t in read_lines(standin.path("ends"))]
        for end, next_start in zip(ends, starts[1:]):
            self.assertLess(next_start - end, 0.3, (starts, ends))

    def test_a_heartbeat_that_gets_no_answer_holds_up_the_job(self):
        # ContainerPilot's Consul client has no timeout: the job waits for the
        # heartbeat's answer and runs no check meanwhile.
        standin = self.launch(MARKER_SERVICE)
        open(standin.path("marker"), "w").close()
        self.assertTrue(wait_until(lambda: len(self.heartbeats()) >= 2), standin.output())
        self.consul.answering.clear()
        time.sleep(0.5)
        held_at = len(read_lines(standin.path("passes")))
        time.sleep(1.5)
        self.assertEqual(len(read_lines(standin.path("passes"))), held_at)
        self.consul.answering.set()
        self.assertTrue(wait_until(lambda: len(read_lines(standin.path("passes"))) > held_at + 2))

    def test_check_killed_at_timeout_sends_nothing(self):
        self.launch("""[{ name: "mysql", port: 3306, health: {
            exec: ["sh", "-c", "sleep 0.4; echo x >> finished"],
            interval: 0.2, ttl: 25, timeout: "200ms" } }]""")
        time.sleep(1.5)
        self.assertEqual(self.consul.requests, [], self.standin.output())
        self.assertEqual(read_lines(self.standin.path("finished")), [])


class LifecycleTest(StandInTestCase):
    def test_prestart_failure_leaves_containerpilot_running(self):
        # containerpilot.md: measured with 3.8.0, still running 200 s after a
        # failed preStart, nothing registered and no job started.
        standin = self.launch("""[
            { name: "preStart", exec: ["sh", "-c", "exit 3"] },
            { name: "mysql", exec: ["sh", "-c", "touch started; sleep 30"], port: 3306,
              interfaces: ["static:127.0.0.2"],
              health: { exec: "true", interval: 0.2, ttl: 25 },
              when: { source: "preStart", once: "exitSuccess" } },
            { name: "onChange", exec: "true",
              when: { source: "watch.mysql-primary", each: "changed" } },
        ]""", watches='[{ name: "mysql-primary", interval: 0.2 }]')
        self.assertTrue(wait_until(lambda: "preStart exited with error" in standin.output()))
        time.sleep(2.0)
        self.assertIsNone(standin.proc.poll(), standin.output())
        self.assertFalse(os.path.exists(standin.path("started")))
        self.assertEqual(self.registrations(), [])
        self.assertEqual(standin.terminate(), 0)

    def test_once_exit_success_runs_after_the_source_job(self):
        standin = self.launch("""[
            { name: "preStart", exec: ["sh", "-c", "sleep 0.3; echo pre >> order"] },
            { name: "main", exec: ["sh", "-c", "echo main >> order"],
              when: { source: "preStart", once: "exitSuccess" } },
            { name: "onFailure", exec: ["sh", "-c", "echo failed >> order"],
              when: { source: "preStart", once: "exitFailed" } },
        ]""")
        self.assertTrue(wait_until(lambda: len(read_lines(standin.path("order"))) >= 2))
        time.sleep(0.3)
        self.assertEqual(read_lines(standin.path("order")), ["pre", "main"], standin.output())
        self.assertIsNone(standin.proc.poll(), "a job still waits, so it keeps running")
        self.assertEqual(standin.terminate(), 0)

    def test_restarts_and_exit_when_all_jobs_complete(self):
        standin = self.launch("""[
            { name: "thrice", exec: ["sh", "-c", "echo x >> thrice"], restarts: 2 },
            { name: "once", exec: ["sh", "-c", "echo x >> once; exit 1"], restarts: "never" },
        ]""")
        self.assertEqual(standin.proc.wait(10), 0, standin.output())
        self.assertEqual(len(read_lines(standin.path("thrice"))), 3)
        self.assertEqual(len(read_lines(standin.path("once"))), 1)

    def test_job_ending_deregisters_and_fires_stopped(self):
        standin = self.launch("""[
            { name: "mysql", exec: ["sh", "-c", "sleep 0.6"], restarts: "never",
              port: 3306, health: { exec: "true", interval: 0.2, ttl: 25 } },
            { name: "stopContainer", exec: ["sh", "-c", "kill -TERM $CONTAINERPILOT_PID"],
              when: { source: "mysql", once: "stopped" } },
        ]""")
        self.assertEqual(standin.proc.wait(10), 0, standin.output())
        self.assertTrue(self.registrations(), standin.output())
        self.assertEqual(len(self.consul.calls("PUT", "/v1/agent/service/deregister/")), 1)

    def test_process_is_named_containerpilot(self):
        standin = self.launch("[]")

        def comm():
            return read_lines(f"/proc/{standin.proc.pid}/comm")
        self.assertTrue(wait_until(lambda: comm() == ["containerpilot"], 3), comm())

    def test_sigterm_stops_jobs_and_deregisters_services(self):
        standin = self.launch("""[
            { name: "preStart", exec: "true" },
            { name: "mysql", exec: ["sh", "-c", "echo $$ > pid; exec sleep 30"],
              port: 3306, health: { exec: "true", interval: 0.2, ttl: 25 },
              when: { source: "preStart", once: "exitSuccess" } },
        ]""")
        self.assertTrue(wait_until(self.registrations), standin.output())
        pid = int(read_lines(standin.path("pid"))[0])
        self.assertEqual(standin.terminate(), 0, standin.output())
        deregistrations = self.consul.calls("PUT", "/v1/agent/service/deregister/")
        self.assertEqual(deregistrations,
                         [("PUT", f"/v1/agent/service/deregister/mysql-{HOST}", "")])
        self.assertTrue(wait_until(lambda: not pid_alive(pid), 3), "mysqld still running")


    def test_sigterm_waits_out_the_whole_stop_timeout(self):
        standin = self.launch('[{ name: "preStart", exec: ["sh", "-c", "echo done > ran"] }]',
                              extra="stopTimeout: 3,")
        self.assertTrue(wait_until(lambda: os.path.exists(standin.path("ran"))),
                        standin.output())
        sent = time.monotonic()
        self.assertEqual(standin.terminate(), 0, standin.output())
        # Nothing ran any more, yet it exits only once stopTimeout has passed.
        self.assertGreaterEqual(time.monotonic() - sent, 3.0)


class WatchTest(StandInTestCase):
    def test_changed_fires_each_time_the_passing_set_changes(self):
        standin = self.launch("""[
            { name: "onChange", exec: ["sh", "-c", "echo fired >> changes"],
              when: { source: "watch.mysql-primary", each: "changed" } },
            { name: "onHealthy", exec: ["sh", "-c", "echo up >> healthy"],
              when: { source: "watch.mysql-primary", each: "healthy" } },
        ]""", watches='[{ name: "mysql-primary", interval: 0.2 }]')

        def changes():
            return len(read_lines(standin.path("changes")))
        time.sleep(0.8)
        self.assertEqual(changes(), 0, "an empty set at start is not a change")
        self.consul.set_passing("mysql-primary", [instance("mysql-primary", "n1", "10.0.0.1")])
        self.assertTrue(wait_until(lambda: changes() == 1), standin.output())
        time.sleep(0.8)
        self.assertEqual(changes(), 1, "the same set again is not a change")
        self.consul.set_passing("mysql-primary", [instance("mysql-primary", "n2", "10.0.0.2")])
        self.assertTrue(wait_until(lambda: changes() == 2))
        self.consul.set_passing("mysql-primary", [])
        self.assertTrue(wait_until(lambda: changes() == 3))
        self.assertEqual(len(read_lines(standin.path("healthy"))), 2)
        polls = self.consul.calls("GET", "/v1/health/service/")
        self.assertEqual({path for _, path, _ in polls},
                         {"/v1/health/service/mysql-primary?passing=1"})


class HookEnvironmentTest(StandInTestCase):
    def test_service_ip_and_pid_variables(self):
        standin = self.launch("""[
            { name: "my-db", port: 3306, interfaces: "static:127.0.0.2",
              health: { exec: "true", interval: 5, ttl: 25 } },
            { name: "show", exec: ["sh", "-c",
              "echo \\"$CONTAINERPILOT_MY_DB_IP $CONTAINERPILOT_PID\\" > env"] },
        ]""")
        self.assertTrue(wait_until(lambda: read_lines(standin.path("env"))), standin.output())
        self.assertEqual(read_lines(standin.path("env")), [f"127.0.0.2 {standin.proc.pid}"])

    def test_putenv_is_seen_by_later_hook_runs(self):
        standin = self.launch("""[{ name: "tick", when: { interval: "200ms" },
            exec: ["sh", "-c", "echo \\"v=$FOO\\" >> seen"] }]""")

        def seen():
            return read_lines(standin.path("seen"))
        self.assertTrue(wait_until(lambda: len(seen()) >= 2), standin.output())
        result = standin.client("-putenv", "FOO=bar")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(wait_until(lambda: "v=bar" in seen()), standin.output())
        lines = seen()
        first_bar = lines.index("v=bar")
        self.assertEqual(set(lines[:first_bar]), {"v="})
        self.assertEqual(set(lines[first_bar:]), {"v=bar"})


class ControlPlaneTest(StandInTestCase):
    def test_reload_restarts_a_long_running_job(self):
        standin = self.launch("""[{ name: "mysql", restarts: "never",
            exec: ["sh", "-c", "echo $$ >> pids; exec sleep 30"] }]""")

        def pids():
            return [int(p) for p in read_lines(standin.path("pids"))]
        self.assertTrue(wait_until(lambda: len(pids()) == 1), standin.output())
        env = dict(os.environ, CONTAINERPILOT=standin.config_path)
        result = subprocess.run([sys.executable, STANDIN, "-reload"], env=env,
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(wait_until(lambda: len(pids()) == 2), standin.output())
        first, second = pids()
        self.assertNotEqual(first, second)
        self.assertTrue(wait_until(lambda: not pid_alive(first), 3))
        self.assertTrue(pid_alive(second))

    def test_maintenance_deregisters_then_registers_again(self):
        standin = self.launch(MARKER_SERVICE)
        open(standin.path("marker"), "w").close()
        self.assertTrue(wait_until(lambda: len(self.heartbeats()) >= 2), standin.output())
        self.assertEqual(standin.client("-maintenance", "enable").returncode, 0)
        self.assertTrue(wait_until(
            lambda: self.consul.calls("PUT", "/v1/agent/service/deregister/")))
        time.sleep(0.3)
        paused_at = len(self.heartbeats())
        time.sleep(0.8)
        self.assertEqual(len(self.heartbeats()), paused_at)
        self.assertEqual(standin.client("-maintenance", "disable").returncode, 0)
        self.assertTrue(wait_until(lambda: len(self.registrations()) == 2), standin.output())

    def test_putmetric_is_served_on_metrics(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        telemetry = ('telemetry: { port: %d, interfaces: ["static:127.0.0.1"], metrics: '
                     '[{ name: "mysql_lag", type: "gauge", help: "lag" }] },' % port)
        standin = self.launch("[]", extra=telemetry)
        url = f"http://127.0.0.1:{port}/metrics"

        def scrape():
            try:
                return urllib.request.urlopen(url, timeout=2).read().decode()
            except OSError:
                return ""
        self.assertTrue(wait_until(scrape), standin.output())
        result = standin.client("-putmetric", "mysql_lag=4.5")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("# TYPE mysql_lag gauge\nmysql_lag 4.5\n", scrape())

    def test_client_fails_without_a_running_containerpilot(self):
        with open(os.path.join(self.workdir, "c.json5"), "w", encoding="utf-8") as handle:
            handle.write('{ consul: "x:1", control: { socket: "%s/none.sock" } }'
                         % self.workdir)
        result = subprocess.run([sys.executable, STANDIN, "-config", handle.name, "-reload"],
                                capture_output=True, text=True, timeout=20)
        self.assertNotEqual(result.returncode, 0)


if __name__ == "__main__":
    unittest.main()
