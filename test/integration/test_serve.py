"""Integration tests of `manage serve` with the real tools in front of it: a
three-node cluster with the shipped timing and semi-synchronous replication,
each node's serve run by ContainerPilot; Debian's promtool, Prometheus,
HAProxy (with containerpilot/haproxy.cfg) and headless Chromium.

The tests run in order on one cluster (a story): the endpoints answer right
on every node; Prometheus scrapes every node; writes through HAProxy survive a
SIGKILL failover and a switchover (the outage is measured and printed);
reads through HAProxy's read port never reach a replica beyond the lag; the
status page shows the cluster in a browser; a killed serve is restarted and
mysqld never notices.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402
from cluster_case import ClusterCase  # noqa: E402
from harness import REPO, import_pymysql, manage_pids, wait_for  # noqa: E402

SERVE_PORT = 8008
SECRETS = ("app-secret", "repl-secret")
# The shipped timing (containerpilot.json5 defaults), with faster stops.
TIMING = {"STOP_TIMEOUT": "10"}
READ_LAG = 10  # ?lag= of the read port in containerpilot/haproxy.cfg


def http(node, path, method="GET", timeout=5):
    """(status, headers, body) of one request to a node's serve."""
    req = urllib.request.Request(f"http://{node.ip}:{SERVE_PORT}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def haproxy_config(nodes, write_port, read_port):
    """containerpilot/haproxy.cfg for nodes with fixed addresses on loopback:
    the same checks, timing and options, one `server` line per node instead of
    the DNS server-template, and the frontends on free local ports."""
    with open(os.path.join(REPO, "containerpilot", "haproxy.cfg")) as f:
        lines = f.read().splitlines()
    out, skip = [], False
    for line in lines:
        if line.startswith("resolvers "):
            skip = True
            continue
        if skip and not line.strip():
            skip = False
        if skip:
            continue
        line = line.replace(" resolvers docker", "").replace(" init-addr none", "")
        if line.strip() == "bind :3306":
            line = f"    bind 127.0.0.1:{write_port}"
        elif line.strip() == "bind :3307":
            line = f"    bind 127.0.0.1:{read_port}"
        if line.strip().startswith("server-template "):
            for n in nodes:
                out.append(f"    server {n.hostname} {n.ip}:3306 check")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


class Writer(threading.Thread):
    """Inserts a row every 50 ms through HAProxy's write port, reconnecting
    after any failure, and records when each insert was acknowledged."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.acks = []  # (monotonic time, id)
        self.errors = 0
        self.stop_flag = threading.Event()
        self.next_id = 1

    def run(self):
        pymysql = import_pymysql()
        conn = None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    conn = pymysql.connect(host="127.0.0.1", port=self.port, user="app",
                                           password="app-secret", database="appdb",
                                           autocommit=True, connect_timeout=2, read_timeout=5,
                                           write_timeout=5)
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO hb (id, ts) VALUES (%s, %s)",
                                (self.next_id, time.time()))
                self.acks.append((time.monotonic(), self.next_id))
                self.next_id += 1
            except Exception:  # noqa: BLE001 - any failure: count, reconnect
                self.errors += 1
                self.next_id += 1  # the row may or may not exist: never reuse its id
                try:
                    if conn:
                        conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
            time.sleep(0.05)

    def longest_gap_after(self, t0):
        """Seconds of the longest wait between acknowledgements from t0 on."""
        times = [t0] + [t for t, _ in self.acks if t >= t0]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=15)


class Reader(threading.Thread):
    """Reads through HAProxy's read port: which node answered and how old the
    newest heartbeat row it has is."""

    def __init__(self, port, by_ip):
        super().__init__(daemon=True)
        self.port = port
        self.by_ip = by_ip
        self.reads = []  # (monotonic time, node hostname, staleness seconds)
        self.stop_flag = threading.Event()

    def run(self):
        pymysql = import_pymysql()
        while not self.stop_flag.is_set():
            try:
                conn = pymysql.connect(host="127.0.0.1", port=self.port, user="app",
                                       password="app-secret", database="appdb",
                                       connect_timeout=2, read_timeout=5)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT @@report_host, MAX(ts) FROM hb")
                        host, newest = cur.fetchone()
                        self.reads.append((time.monotonic(), self.by_ip.get(host, host),
                                           time.time() - float(newest or 0)))
                finally:
                    conn.close()
            except Exception:  # noqa: BLE001 - no replica up for a moment
                pass
            time.sleep(0.1)

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=15)


class ServeTest(ClusterCase):
    base_prefix = "manage-serve-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.new_cluster("mysql", extra_env={"SEMI_SYNC": "on"})
        cls.c.timing = dict(TIMING)
        cls.procs = []
        cls.figures = {}

    @classmethod
    def tearDownClass(cls):  # the tools go before the clusters' cleanups stop the nodes
        for p in cls.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
        if cls.figures:
            print("\nmeasured: " + json.dumps(cls.figures), file=sys.stderr)

    def start_tool(self, name, args):
        log = open(os.path.join(self.base, name + ".log"), "ab")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs.append(p)
        return p

    def tool_log(self, name):
        try:
            with open(os.path.join(self.base, name + ".log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def serve_pid(self, node):
        pids = manage_pids(node, "serve")
        return pids[0] if pids else None

    def test_1_endpoints_answer_by_role(self):
        c = self.c

        def step():
            c.start(3)
            c.wait_healthy(c.nodes, timeout=240)
            primary = wait_for("a primary", c.primary, timeout=60)
            primary.sql("CREATE TABLE hb (id BIGINT PRIMARY KEY, ts DOUBLE)", "appdb")
            primary.sql("INSERT INTO hb VALUES (0, UNIX_TIMESTAMP(NOW(6)))", "appdb")
            for n in c.nodes:
                c.wait_row(n, "hb", 0)
            wait_for("/primary 200 on the primary only", lambda: [
                http(n, "/primary")[0] for n in c.nodes] == [
                200 if n is primary else 503 for n in c.nodes], timeout=30)
            wait_for("/replica 200 on the replicas only", lambda: [
                http(n, "/replica")[0] for n in c.nodes] == [
                503 if n is primary else 200 for n in c.nodes], timeout=30)
            # Bootstrap is over (time zones load before the first snapshot) and
            # every node has every transaction: from here nothing writes.
            wait_for("the first snapshot", lambda: self.consul.kv("mysql-last-backup")[0],
                     timeout=180)

            def positions():
                return {n.name: n.sql("SELECT @@gtid_current_pos")[0][0] for n in c.nodes}
            gtids = wait_for("every node at the same position", lambda: (
                lambda p: p if len(set(p.values())) == 1 else None)(positions()), timeout=60)
            answers = []
            for n in c.nodes:
                for path in ("/read-only", "/health", "/read-only?lag=30"):
                    status, _, body = http(n, path)
                    self.assertEqual(status, 200, f"{n.name} {path}: {body}")
                for path in ("/primary", "/replica", "/health"):
                    get = http(n, path)
                    for method in ("HEAD", "OPTIONS"):
                        status, headers, body = http(n, path, method)
                        # The facts may change between two requests (a loaded
                        # machine makes them stale for a moment): as GET
                        # answers just before or just after.
                        self.assertIn(status, {get[0], http(n, path)[0]},
                                      f"{method} {path} on {n.name}")
                        self.assertEqual(body, "")
                    answers.append(get[2])
                _, headers, _ = http(n, "/primary", "OPTIONS")
                self.assertEqual(headers.get("Allow"), "GET, HEAD, OPTIONS")
                for path, want in (("/nope", 404), ("/replica?lag=abc", 400),
                                   ("/replica?lag=-1", 400), ("/replica?lag=99999999", 400),
                                   ("/primary?lag=1", 400), ("/replica?lag=1&lag=2", 400),
                                   ("/metrics?x", 400)):
                    self.assertEqual(http(n, path)[0], want, f"{path} on {n.name}")
                for method in ("POST", "PUT", "DELETE"):
                    self.assertEqual(http(n, "/primary", method)[0], 405)
                status, _, body = http(n, "/node")
                self.assertEqual(status, 200)
                node = json.loads(body)
                self.assertEqual(node["node"]["name"], n.name)
                self.assertEqual(node["node"]["role"], "primary" if n is primary else "replica")
                self.assertEqual(node["primary"], primary.name)
                self.assertEqual(node["checks"]["primary"], n is primary)
                answers.append(body)
                # /cluster answers from its last collection, every interval:
                # one made before the last node registered lists it not yet.
                def whole_cluster(n=n):
                    r = http(n, "/cluster")
                    listed = {x["name"] for x in json.loads(r[2])["nodes"]} if r[0] == 200 else None
                    return r if listed == {x.name for x in c.nodes} else None
                status, _, body = wait_for("/cluster to list every node", whole_cluster,
                                           timeout=30)
                cluster = json.loads(body)
                self.assertEqual(cluster["primary"], primary.name)
                answers.append(body)
                status, headers, page = http(n, "/")
                self.assertEqual(status, 200)
                self.assertTrue(headers["Content-Type"].startswith("text/html"))
                answers += [page, http(n, "/metrics")[2]]
            for body in answers:
                for secret in SECRETS:
                    self.assertNotIn(secret, body)
            # Nothing answered changed anything.
            self.assertEqual(gtids, positions())
            self.assertEqual([n.read_only() for n in c.nodes],
                             [n is not primary for n in c.nodes])
        self.run_step(step)

    def test_2_prometheus_scrapes_every_node(self):
        c = self.c

        def step():
            for n in c.nodes:
                metrics = http(n, "/metrics")[2]
                check = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                                       capture_output=True, text=True, timeout=60)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                self.assertIn('manage_hook_runs_total{hook="health",result="ok"}', metrics)
            shipped = subprocess.run(
                ["promtool", "check", "config",
                 os.path.join(REPO, "containerpilot", "prometheus.yml")],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(shipped.returncode, 0, shipped.stdout + shipped.stderr)
            port = free_port()
            config = os.path.join(self.base, "prometheus.yml")
            targets = ", ".join(f'"{n.ip}:{SERVE_PORT}"' for n in c.nodes)
            with open(config, "w") as f:
                f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                        "scrape_configs:\n  - job_name: manage\n"
                        f"    static_configs: [{{targets: [{targets}]}}]\n")
            self.start_tool("prometheus", [
                "prometheus", f"--config.file={config}",
                f"--storage.tsdb.path={os.path.join(self.base, 'tsdb')}",
                f"--web.listen-address=127.0.0.1:{port}"])

            def query(q):
                url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
                    {"query": q})
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.loads(r.read())["data"]["result"]
            primary = c.primary()
            try:
                wait_for("all three nodes scraped", lambda: len(query(
                    'up{job="manage"} == 1')) == 3, timeout=60)
                result = wait_for("the primary's role from Prometheus", lambda: query(
                    'manage_role{role="primary"} == 1'), timeout=30)
            except TimeoutError as e:
                raise AssertionError(
                    f"{e}\nmanage_role: {query('manage_role')}\nprimary {primary.name}: "
                    f"{http(primary, '/node')[2]}\n{self.tool_log('prometheus')}") from e
            self.assertEqual([r["metric"]["instance"] for r in result],
                             [f"{primary.ip}:{SERVE_PORT}"])
            runs = query('manage_hook_runs_total{hook="health",result="ok"}')
            self.assertEqual(len(runs), 3)
            self.assertTrue(all(float(r["value"][1]) > 0 for r in runs), runs)
        self.run_step(step)

    def start_haproxy(self):
        c = self.c
        write_port, read_port = free_port(), free_port()
        config = os.path.join(self.base, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(haproxy_config(c.nodes, write_port, read_port))
        check = subprocess.run(["haproxy", "-c", "-f", config], capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.start_tool("haproxy", ["haproxy", "-db", "-f", config])
        return write_port, read_port

    def test_3_writes_through_haproxy_survive_failover_and_switchover(self):
        c = self.c

        def step():
            type(self).ports = self.start_haproxy()
            write_port, _ = self.ports
            writer = Writer(write_port)
            writer.start()
            type(self).writer = writer
            wait_for("writes through HAProxy", lambda: len(writer.acks) >= 20, timeout=60)

            # SIGKILL: the lock frees after HEALTH_TTL, a replica is promoted,
            # its serve passes /primary and HAProxy sends writes there.
            old = c.primary()
            t0 = time.monotonic()
            old.stop(signal.SIGKILL)
            new = wait_for("a new primary", lambda: (
                c.primary() if c.primary() not in (None, old) else None), timeout=90,
                interval=0.05)
            # Of the outage, this much passed before a new primary held the lock.
            self.figures["failover_lock_taken_after_s"] = round(time.monotonic() - t0, 2)
            acked = len(writer.acks)
            wait_for("writes to resume", lambda: len(writer.acks) >= acked + 20, timeout=60)
            self.figures["failover_write_outage_s"] = round(writer.longest_gap_after(t0), 2)
            old.start()
            c.wait_healthy([old], timeout=180)
            wait_for("the old primary to be a replica", lambda: old.state("role") == "replica",
                     timeout=60)

            # Switchover: writes stop from the fence to the promotion.
            target = next(n for n in c.nodes if n is not new)
            t1 = time.monotonic()
            out = new.manage("switchover", "--to", target.hostname, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            acked = len(writer.acks)
            wait_for("writes to resume", lambda: len(writer.acks) >= acked + 20, timeout=60)
            self.figures["switchover_write_outage_s"] = round(writer.longest_gap_after(t1), 2)
            writer.stop()
            self.figures["write_errors"] = writer.errors
            # Every acknowledged write is on the primary (semi-sync).
            primary = c.primary()
            ids = {int(r[0]) for r in primary.sql("SELECT id FROM hb", "appdb")}
            lost = [i for _, i in writer.acks if i not in ids]
            self.assertEqual(lost, [], "acknowledged writes missing on the primary")
            print(f"\nwrites through HAProxy: {len(writer.acks)} acknowledged, "
                  f"{writer.errors} failed; outage after SIGKILL "
                  f"{self.figures['failover_write_outage_s']} s (a new primary held the lock "
                  f"after {self.figures['failover_lock_taken_after_s']} s), after switchover "
                  f"{self.figures['switchover_write_outage_s']} s", file=sys.stderr)
            self.assertLess(self.figures["failover_write_outage_s"], 30)
            self.assertLess(self.figures["switchover_write_outage_s"], 10)
        self.run_step(step)

    def test_4_reads_never_reach_a_replica_beyond_the_lag(self):
        c = self.c

        def step():
            write_port, read_port = self.ports
            primary = c.primary()
            delayed, other = [n for n in c.nodes if n is not primary]
            writer = Writer(write_port)
            writer.next_id = 10_000_000
            writer.start()
            by_ip = {n.ip: n.hostname for n in c.nodes}
            reader = Reader(read_port, by_ip)
            reader.start()
            try:
                wait_for("reads through HAProxy from both replicas", lambda: {
                    h for _, h, _ in reader.reads} >= {delayed.hostname, other.hostname},
                    timeout=60)
                # The delayed replica falls 25 s behind (MAX_REPLICA_LAG is 30:
                # it stays healthy, but beyond the read port's lag of 10 s).
                delayed.sql("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=25; START SLAVE")
                t0 = time.monotonic()
                wait_for("the delayed replica to fall behind", lambda: (json.loads(
                    http(delayed, "/node")[2])["node"]["lag_seconds"] or 0) >= 20, timeout=60)
                time.sleep(5)
                t_end = time.monotonic()
            finally:
                reader.stop()
                writer.stop()
            during = [r for r in reader.reads if r[0] >= t0]
            self.assertTrue(during, "no reads while the replica fell behind")
            worst = max(s for _, _, s in during)
            # The lag, plus how long a replica falling behind takes to be
            # dropped: serve's refresh (1 s), HAProxy's fall 2 x 500 ms, and
            # slack for a loaded machine.
            bound = READ_LAG + 5
            self.figures["read_staleness_max_s"] = round(worst, 2)
            self.assertLess(worst, bound, [r for r in during if r[2] >= bound][:5])
            late = [r for r in during if r[0] > t_end - 4 and r[1] == delayed.hostname]
            self.assertEqual(late, [], "reads still reach the delayed replica")
            self.assertIn(other.hostname, {h for _, h, _ in during})
            type(self).delayed = delayed
        self.run_step(step)

    def test_5_status_page_shows_the_cluster_in_a_browser(self):
        c = self.c

        def step():
            primary = c.primary()
            delayed = self.delayed
            browser = Browser(os.path.join(self.base, "chromium.log"))
            try:
                browser.open(f"http://{delayed.ip}:{SERVE_PORT}/")

                def shows(text):
                    status, _, body = http(delayed, "/cluster")
                    if status != 200:
                        return False
                    cluster = json.loads(body)
                    row = next(x for x in cluster["nodes"] if x["name"] == delayed.name)
                    lag = row["lag_seconds"]
                    # A row of the table: the delayed replica, its role and lag.
                    line = next((ln for ln in text.splitlines() if ln.startswith(delayed.name)),
                                "")
                    return (primary.name in text and "replica" in line and lag
                            and re.search(rf"\b{lag}s\b", line))
                text = browser.wait_text(shows, timeout=30)
                shot = os.path.join(self.base, "status-page.png")
                data = browser.screenshot(shot)
            finally:
                browser.close()
            self.assertRegex(text, rf"Primary lock\s+{primary.name}\b")
            self.assertTrue(data.startswith(b"\x89PNG"), "not a PNG")
            self.assertGreater(len(data), 10_000)
            if os.environ.get("KEEP_TEST_DIRS"):
                print(f"screenshot: {shot}", file=sys.stderr)
        self.run_step(step)

    def test_6_a_killed_serve_is_restarted_and_mysqld_never_notices(self):
        c = self.c

        def step():
            node = c.primary()
            mysqld = node.mysqld_pid()
            pid = self.serve_pid(node)
            self.assertIsNotNone(pid)
            os.kill(pid, signal.SIGKILL)
            new_pid = wait_for("serve to be restarted", lambda: (
                lambda p: p if p and p != pid else None)(self.serve_pid(node)), timeout=30)
            self.assertNotEqual(new_pid, pid)
            wait_for("/primary to pass again", lambda: http(node, "/primary")[0] == 200,
                     timeout=30)
            self.assertEqual(node.mysqld_pid(), mysqld)
            self.assertFalse(node.read_only())
            self.assertEqual(c.primary(), node)
        self.run_step(step)


if __name__ == "__main__":
    unittest.main()
