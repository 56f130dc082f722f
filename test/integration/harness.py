"""A local cluster for integration tests, the demo and the benchmark.

Each node is what a container would be: its own loopback address
(127.0.0.N), its own hostname (an `unshare --uts` namespace), datadir, state
dir, sockets and ContainerPilot, all driven by containerpilot/containerpilot.json5.
Consul is the real agent when one is available (CONSUL_HTTP_ADDR, or `consul`
on PATH) and the double otherwise; ContainerPilot likewise (see
test/doubles/run-containerpilot). Everything lives under one base directory
and is stopped by Cluster.stop().
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLES = os.path.join(REPO, "test", "doubles")
# The /24 of loopback the nodes live on: 127.0.0.N unless MANAGE_TEST_NET names
# another (say 127.0.7), so that two checkouts can run their tests at once.
TEST_NET = os.environ.get("MANAGE_TEST_NET", "127.0.0")


def node_ip(index):
    """The loopback address of node `index`: <TEST_NET>.<index + 1>."""
    return f"{TEST_NET}.{index + 1}"


def manage_bin():
    """The manage binary under test: $MANAGE_BIN or the default build dir."""
    path = os.environ.get("MANAGE_BIN") or os.path.join(REPO, "build", "cmd", "manage", "manage")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"manage binary not found at {path}: build first or set MANAGE_BIN")
    return path


def import_pymysql():
    """PyMySQL, also when python3 is not Debian's (scripts/setup installs python3-pymysql)."""
    try:
        import pymysql
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import pymysql
        except ImportError:
            raise RuntimeError("PyMySQL is missing: run scripts/setup "
                               "(it installs python3-pymysql)") from None
    return pymysql


def session_pids(sid):
    """PIDs of the live processes in session `sid` (a node's ContainerPilot and all below)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # Fields after the command name: state, ppid, pgrp, session, ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def status_kb(pid, key):
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM, ...); 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def manage_pids(node, subcommand):
    """PIDs of the node's processes running `manage <subcommand>` (e.g. serve)."""
    pids = []
    for pid in node.processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith(b"manage") and argv[1] == subcommand.encode():
            pids.append(pid)
    return pids


def wait_for(what, predicate, timeout=60.0, interval=0.25):
    """Polls predicate() until it returns a truthy value; raises on timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # a predicate may fail while things start
            last_error = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}"
                       + (f" (last error: {last_error})" if last_error else ""))


class Consul:
    """A Consul agent for the tests: an existing one, a real dev agent, or the double."""

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.pidfile = os.path.join(base_dir, "consul.pid")
        self.owned = False
        self.addr = None
        self.paused = False

    def start(self, port=0):
        existing = os.environ.get("CONSUL_HTTP_ADDR")
        if existing:
            self.addr = existing if "://" in existing else "http://" + existing
            return self
        out = subprocess.run(
            [os.path.join(DOUBLES, "start-consul"), "--port", str(port), "--pidfile",
             self.pidfile, "--log", os.path.join(self.base_dir, "consul.log")],
            check=True, capture_output=True, text=True, timeout=60)
        self.addr = out.stdout.strip().splitlines()[-1]
        self.owned = True
        return self

    def stop(self):
        if self.owned:
            self.resume()
            subprocess.run([os.path.join(DOUBLES, "start-consul"), "--stop",
                            "--pidfile", self.pidfile], check=False, timeout=30)
            self.owned = False

    # Faults of Consul itself. Only an agent the tests started can have them:
    # `faults` says why not otherwise (tests skip, chaos refuses the kinds).

    @property
    def faults(self):
        """None when the faults below work, else why they cannot."""
        return None if self.owned else "Consul is an agent the tests did not start"

    def is_double(self):
        return "consul_double.py" in self._cmdline()

    def restart_empty(self):
        """Kills the agent and starts a new one on the same port: a dev agent
        (or a single server) restarted without its state."""
        port = int(self.hostport.rsplit(":", 1)[1])
        pid = self._pid()
        os.kill(pid, signal.SIGKILL)
        wait_for("the old Consul to exit", lambda: not os.path.exists(f"/proc/{pid}"),
                 timeout=30)
        os.unlink(self.pidfile)
        self.paused = False
        self.start(port)

    def lose_leader(self):
        """The double: a follower without a leader (500 "No cluster leader" after
        holding each request). A real dev agent cannot lose its leader: it is
        paused instead (SIGSTOP), so that it does not answer at all."""
        if self.is_double():
            os.kill(self._pid(), signal.SIGUSR1)
        else:
            os.kill(self._pid(), signal.SIGSTOP)
            self.paused = True

    def elect_leader(self):
        """Undoes lose_leader()."""
        if self.is_double():
            os.kill(self._pid(), signal.SIGUSR2)
        else:
            self.resume()

    def resume(self):
        if self.paused:
            os.kill(self._pid(), signal.SIGCONT)
            self.paused = False

    def _pid(self):
        with open(self.pidfile) as f:
            return int(f.read().strip())

    def _cmdline(self):
        try:
            with open(f"/proc/{self._pid()}/cmdline", "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""

    @property
    def hostport(self):
        return self.addr.split("://", 1)[1]

    def request(self, method, path, body=None):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.addr + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def kv(self, key):
        """(value, session) of a key, or (None, None) when absent."""
        status, body = self.request("GET", "/v1/kv/" + key)
        if status == 404:
            return None, None
        entry = json.loads(body)[0]
        value = entry.get("Value")
        value = base64.b64decode(value).decode() if value else ""
        return value, entry.get("Session")

    def passing(self, service):
        """IDs of the passing instances of a service."""
        status, body = self.request("GET", f"/v1/health/service/{service}?passing=1")
        if status != 200:
            return set()
        return {entry["Service"]["ID"] for entry in json.loads(body)}

    def session(self, name, ttl="30s", lock_delay="0s"):
        status, body = self.request("PUT", "/v1/session/create", json.dumps(
            {"Name": name, "TTL": ttl, "LockDelay": lock_delay}))
        assert status == 200, body
        return json.loads(body)["ID"]


class Relay:
    """A node's own path to Consul (test/doubles/relay.py) that can black-hole:
    the node alone cut off from Consul, everyone else unaffected."""

    def __init__(self, upstream, log_path):
        self.upstream = upstream  # host:port
        self.log_path = log_path
        self.proc = None
        self.hostport = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(DOUBLES, "relay.py"), "--upstream", self.upstream],
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
            start_new_session=True)
        log.close()
        line = self.proc.stdout.readline()
        if not line.startswith("relay listening on "):
            raise RuntimeError(f"relay.py did not start: {line!r}")
        self.hostport = line.split()[-1]
        return self

    def cut(self):
        self.proc.send_signal(signal.SIGUSR1)

    def heal(self):
        self.proc.send_signal(signal.SIGUSR2)

    def stop(self):
        if self.proc:
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(timeout=10)
            self.proc.stdout.close()
        self.proc = None


class Node:
    """One database node: a ContainerPilot running pre_start, mysqld and the hooks."""

    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.ip = node_ip(index)
        self.hostname = f"n{index}"
        self.dir = os.path.join(cluster.base_dir, f"node{index}")
        self.datadir = os.path.join(self.dir, "data")
        self.state_dir = os.path.join(self.dir, "state")
        self.socket = os.path.join(self.dir, "run", "mysqld.sock")
        self.log_path = os.path.join(self.dir, "containerpilot.log")
        self.proc = None
        self.log_file = None
        self.extra_env = {}  # this node's own settings, over the cluster's
        # For supervise(): stop() and crash() mark a stop as intended, and the
        # supervisor restarts only a ContainerPilot that exited on its own.
        self.lock = threading.RLock()
        self.stop_requested = False
        self.restarts = []  # monotonic times of the supervisor's restarts
        self.supervisor_gave_up = None  # why, once it stopped restarting
        self._supervisor = None
        self.relay = None  # with Cluster(relays=True): this node's path to Consul

    @property
    def name(self):
        """The node's Consul service ID and the value it writes into PRIMARY_KEY."""
        return f"{self.cluster.service}-{self.hostname}"

    def env(self):
        c = self.cluster
        env = dict(os.environ)
        env.pop("CONSUL_HTTP_ADDR", None)
        env.update({
            "PATH": os.path.dirname(c.manage) + ":" + os.environ.get("PATH", ""),
            "SERVICE_NAME": c.service,
            "CONSUL_HTTP_ADDR": self.relay.hostport if self.relay else c.consul.hostport,
            "NODE_IP": self.ip,
            "MYSQL_BIND_ADDRESS": self.ip,
            "CONTAINERPILOT_INTERFACES": f"static:{self.ip}",
            "CONTAINERPILOT_SOCKET": os.path.join(self.dir, "containerpilot.socket"),
            "MYSQLD": shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "MYSQL_DATADIR": self.datadir,
            "MYSQL_SOCKET": self.socket,
            "MYSQL_TMPDIR": os.path.join(self.dir, "tmp"),
            "MYSQL_CNF": os.path.join(self.dir, "my.cnf"),
            "MYSQL_CNF_TEMPLATE": os.path.join(REPO, "containerpilot", "my.cnf.tmpl"),
            "MANAGE_STATE_DIR": self.state_dir,
            "SNAPSHOT_BACKEND": "local",
            "STORAGE_DIR": c.storage_dir,
            "MYSQL_USER": "app", "MYSQL_PASSWORD": "app-secret", "MYSQL_DATABASE": "appdb",
            "MYSQL_REPL_USER": "repl", "MYSQL_REPL_PASSWORD": "repl-secret",
            "INNODB_BUFFER_POOL_SIZE": "64",
            "LOG_LEVEL": "DEBUG",
        })
        env.update(c.timing)
        env.update(c.extra_env)
        env.update(self.extra_env)
        return env

    def start(self):
        self.stop_requested = False
        os.makedirs(self.dir, exist_ok=True)
        if self.cluster.relays and self.relay is None:
            self.relay = Relay(self.cluster.consul.hostport,
                               os.path.join(self.dir, "relay.log")).start()
        self.log_file = open(self.log_path, "ab")
        cp = os.path.join(DOUBLES, "run-containerpilot")
        config = os.path.join(REPO, "containerpilot", "containerpilot.json5")
        cmd = ["unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"',
               "sh", self.hostname, cp, "-config", config]
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=self.log_file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=90):
        """Stops ContainerPilot with `sig` (SIGKILL: the whole node at once, like a crash)."""
        with self.lock:
            self.stop_requested = True
        if not self.proc:
            return
        if self.proc.poll() is not None:  # it exited on its own
            self._forget_process()
            return
        try:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._forget_process()

    def _forget_process(self):
        """After ContainerPilot exited: nothing of the node left behind (as when a
        container's first process exits), log closed."""
        # Jobs run in process groups of their own (a long-running one such as
        # `manage serve` outlives a SIGKILLed ContainerPilot otherwise).
        for _ in range(5):
            pids = session_pids(self.proc.pid)
            if not pids:
                break
            signal_pids(pids, signal.SIGKILL)
            time.sleep(0.05)
        self._kill_leftover_mysqld()
        self.proc = None
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def _kill_leftover_mysqld(self):
        pid_file = os.path.join(self.dir, "run", "mysqld.pid")
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_for("mysqld to exit", lambda: not os.path.exists(f"/proc/{pid}"), timeout=30)

    def mysqld_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "mysqld.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def processes(self):
        """Every live process of the node: its ContainerPilot's session, and mysqld.

        ContainerPilot runs each job in a process group of its own, but all of
        them stay in the session that start() opened, as in one container.
        """
        if not self.proc:
            return []
        pids = session_pids(self.proc.pid)
        mysqld = self.mysqld_pid()
        if mysqld and mysqld not in pids and self._is_own_mysqld(mysqld):
            pids.append(mysqld)
        return pids

    def _is_own_mysqld(self, pid):
        """Whether `pid` is this node's mysqld (the pid file may be stale)."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return self.dir.encode() in f.read()
        except OSError:
            return False

    def freeze(self):
        """SIGSTOPs every process of the node, like `docker pause`."""
        stopped = set()
        for _ in range(5):  # a process may fork while the others stop
            new = [pid for pid in self.processes() if pid not in stopped]
            if not new:
                break
            signal_pids(new, signal.SIGSTOP)
            stopped.update(new)

    def thaw(self):
        """SIGCONTs every process of the node (undoes freeze())."""
        signal_pids(self.processes(), signal.SIGCONT)

    def crash(self):
        """SIGKILLs every process of the node at once, like a container that dies."""
        with self.lock:
            self.stop_requested = True
            self._reap()

    def _reap(self):
        """Kills what is left of the node and forgets its ContainerPilot."""
        if not self.proc:
            return
        for _ in range(5):
            pids = self.processes()
            if not pids:
                break
            signal_pids(pids, signal.SIGKILL)
            time.sleep(0.05)
        self.proc.wait(timeout=30)
        self._forget_process()

    def supervise(self, max_restarts=5, window=300.0, interval=0.5):
        """Restarts ContainerPilot whenever it exits on its own, like Docker's
        `restart: always`; never after stop() or crash(). Gives up, and says
        why in supervisor_gave_up, after max_restarts within `window` seconds."""
        if self._supervisor:
            return self
        self._supervisor = threading.Event()
        thread = threading.Thread(target=self._supervise, name=f"supervise-{self.name}",
                                  args=(self._supervisor, max_restarts, window, interval),
                                  daemon=True)
        thread.start()
        return self

    def unsupervise(self):
        if self._supervisor:
            self._supervisor.set()
            self._supervisor = None

    def _supervise(self, done, max_restarts, window, interval):
        while not done.wait(interval):
            with self.lock:
                if self.stop_requested or not self.proc or self.proc.poll() is None:
                    continue
                now = time.monotonic()
                recent = [t for t in self.restarts if now - t < window]
                if len(recent) >= max_restarts:
                    self.supervisor_gave_up = (f"{self.name} exited {len(recent) + 1} times "
                                               f"in {window:.0f}s; not restarted again")
                    print(self.supervisor_gave_up, file=sys.stderr, flush=True)
                    return
                code = self.proc.returncode
                self._reap()
                self.restarts.append(now)
                print(f"{self.name}: ContainerPilot exited ({code}); restarting it",
                      file=sys.stderr, flush=True)
                self.start()

    def connect(self, database="appdb", timeout=10.0, read_timeout=None):
        """A PyMySQL connection to the node as the application user, over TCP."""
        pymysql = import_pymysql()
        env = self.env()
        return pymysql.connect(host=self.ip, port=int(env.get("MYSQL_PORT", "3306")),
                               user=env["MYSQL_USER"], password=env["MYSQL_PASSWORD"],
                               database=database, autocommit=True, connect_timeout=timeout,
                               read_timeout=read_timeout or timeout,
                               write_timeout=read_timeout or timeout)

    def sql(self, query, database=None):
        """Runs SQL as root over the node's socket; returns rows as lists of strings."""
        cmd = ["mariadb", "--no-defaults", "-uroot", "-S", self.socket, "-N", "-B", "-e", query]
        if database:
            cmd.insert(-2, database)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"{self.name}: {query!r} failed: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines()]

    def read_only(self):
        return self.sql("SELECT @@read_only")[0][0] == "1"

    def state(self, name):
        try:
            with open(os.path.join(self.state_dir, name)) as f:
                return f.read().strip()
        except OSError:
            return ""

    def manage(self, *args, timeout=60):
        """Runs the manage binary as an operator would inside this node's container:
        its environment and its hostname (which names the node in Consul)."""
        cmd = ["unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"',
               "sh", self.hostname, self.cluster.manage, *args]
        return subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def detached_log(self):
        """What hooks started in the background (a failover, a first snapshot) logged."""
        try:
            with open(os.path.join(self.state_dir, "detached.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# Short intervals so the tests run in seconds; production defaults are in the
# README. The health TTL stays well above the interval, as in production.
FAST_TIMING = {
    "HEALTH_INTERVAL": "1",
    "HEALTH_TTL": "5",
    "WATCH_INTERVAL": "1",
    "SNAPSHOT_INTERVAL": "5s",
    "SESSION_TTL": "10",
    "SESSION_LOCK_DELAY": "2",
    "STOP_TIMEOUT": "10",
}


class Cluster:
    """Nodes of one SERVICE_NAME sharing a Consul and a snapshot directory."""

    def __init__(self, consul, base_dir, service="mysql", first_index=1, extra_env=None,
                 relays=False):
        self.consul = consul
        self.relays = relays  # each node reaches Consul through a Relay of its own
        self.base_dir = os.path.join(base_dir, service)
        self.service = service
        self.storage_dir = os.path.join(self.base_dir, "snapshots")
        self.manage = manage_bin()
        self.timing = dict(FAST_TIMING)
        self.extra_env = extra_env or {}
        self.first_index = first_index
        self.nodes = []
        os.makedirs(self.storage_dir, exist_ok=True)
        os.chmod(self.base_dir, 0o755)

    def add(self):
        node = Node(self, self.first_index + len(self.nodes))
        self.nodes.append(node)
        return node

    def start(self, count):
        return [self.add().start() for _ in range(count)]

    def stop(self):
        for node in self.nodes:
            node.stop(signal.SIGKILL)
            if node.relay:
                node.relay.stop()
                node.relay = None

    def primary_name(self):
        value, session = self.consul.kv(f"{self.service}-primary")
        return value if session else None

    def primary(self):
        name = self.primary_name()
        return next((n for n in self.nodes if n.name == name), None)

    def healthy(self):
        return self.consul.passing(self.service)

    def wait_healthy(self, nodes, timeout=120):
        names = {n.name for n in nodes}
        return wait_for(f"{sorted(names)} passing in Consul",
                        lambda: names <= self.healthy(), timeout=timeout)

    def wait_row(self, node, table, key, timeout=60):
        return wait_for(f"row {key} on {node.name}", lambda: node.sql(
            f"SELECT COUNT(*) FROM {table} WHERE id={int(key)}", "appdb")[0][0] == "1",
            timeout=timeout)

    def dump_logs(self, tail=60):
        """The tail of every node's log, for a failing test's message."""
        parts = []
        for n in self.nodes:
            lines = n.log().splitlines()[-tail:]
            parts.append(f"--- {n.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)


def make_base_dir(prefix="manage-it-"):
    base = tempfile.mkdtemp(prefix=prefix)
    os.chmod(base, 0o755)
    return base
