#!/usr/bin/env python3
"""What one `manage health` costs, beside the cheapest possible check.

Starts a 2-node cluster with the harness (its own base directory, its own
Consul on 127.0.0.1, nodes on 127.0.0.N), waits until both nodes pass, the
primary holds the lock and the first snapshot is stored, then freezes both
ContainerPilots (SIGSTOP) so that no hook, watch or snapshot of theirs runs
while we measure. mysqld and Consul keep running; the check TTL is an hour so
nothing expires meanwhile.

Then it runs, on the primary and on the replica, `manage health` exactly as
ContainerPilot runs it (same binary, the node's environment plus what
ContainerPilot adds, the node's hostname namespace, stdin /dev/null) and the
floor `mariadb --no-defaults -uroot -S <socket> -e 'SELECT 1'` over the same
socket, interleaved (health, floor, health, floor, ...) so that machine noise
hits both alike. Each call is one posix_spawn + wait4: wall time around it,
CPU time (user + sys) of the child from its rusage. Peak RSS is the child's
ru_maxrss too, taken in a few more calls through a small forking probe (see
RSS_PROBE_C for why not from here).

Each node's long-running jobs (`manage serve`, `manage archive`) are frozen
with ContainerPilot while health is measured; serve is then thawed and measured
itself (bench_serve.py): idle CPU and RSS, and /primary and /replica under `wrk`.

Targets: p50 wall of health at most 1.5x the floor's, peak RSS at most 15 MB.
Exit status: 0 targets met, 1 a target missed, 2 the run itself failed.
Everything is stopped and deleted at the end, also on Ctrl-C or an error.
"""

import argparse
import ctypes
import http.client
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_serve  # noqa: E402
import harness  # noqa: E402

P50_TARGET = 1.5   # p50 wall of health / p50 wall of the floor
RSS_TARGET_MB = 15.0
CLONE_NEWUTS = 0x04000000

# ru_maxrss of a child that Python spawns is at least Python's own peak RSS:
# posix_spawn (and fork) start the child in a copy of the parent's memory, and
# exec keeps that copy's high-water mark. The max RSS column therefore comes
# from this probe: a small process that forks the command, waits for it with
# wait4 and appends "ru_maxrss status" to the file named by its first argument.
RSS_PROBE_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 125;
  pid_t pid = fork();
  if (pid < 0) return 126;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) return 126;
  FILE *out = fopen(argv[1], "a");
  if (!out) return 126;
  fprintf(out, "%ld %d\n", ru.ru_maxrss, status);
  fclose(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
"""


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop like on Ctrl-C."""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=300,
                   help="measured calls of each command on each node (at least 200; default 300)")
    p.add_argument("--warmup", type=int, default=20,
                   help="unmeasured calls of each first (default 20)")
    p.add_argument("--rss-calls", type=int, default=20,
                   help="calls of each through the RSS probe, after the timed ones (default 20)")
    p.add_argument("--manage", default=os.environ.get("MANAGE_BIN"),
                   help="manage binary (default $MANAGE_BIN, else build/cmd/manage/manage)")
    p.add_argument("--service", default="bench", help="SERVICE_NAME of the cluster (bench)")
    p.add_argument("--first-ip", type=int, default=40,
                   help="nodes listen on 127.0.0.<N+1>, 127.0.0.<N+2> (default 40)")
    p.add_argument("--log-level", default="INFO",
                   help="LOG_LEVEL of the nodes (default INFO, the production default)")
    p.add_argument("--call-timeout", type=float, default=30.0,
                   help="seconds before a measured call is killed (default 30)")
    p.add_argument("--max-seconds", type=float, default=1800,
                   help="give up (and clean up) after this long in all (default 1800)")
    p.add_argument("--keep", action="store_true", help="keep the base directory")
    a = p.parse_args()
    if a.calls < 200:
        p.error("--calls must be at least 200")
    if a.rss_calls < 1:
        p.error("--rss-calls must be at least 1")
    if not 1 <= a.first_ip <= 250:
        p.error("--first-ip must be within 1..250")
    return a


# ---------------------------------------------------------------- machine facts

def machine_lines(manage):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"machine: nproc {usable} (of {os.cpu_count()} online), {model}",
        f"kernel:  {platform.system()} {platform.release()}, load average {load}",
        f"binary:  {manage}",
        f"build:   {build_type(manage)}",
    ]
    return lines


def build_type(binary):
    """CMAKE_BUILD_TYPE of the build dir holding `binary`, and whether it has debug info."""
    kind = "unknown (no CMakeCache.txt above the binary)"
    d = os.path.dirname(os.path.abspath(binary))
    while d != os.path.dirname(d):
        cache = os.path.join(d, "CMakeCache.txt")
        if os.path.exists(cache):
            value = ""
            with open(cache, errors="replace") as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        value = line.split("=", 1)[1].strip()
            kind = value or "RelWithDebInfo (the CMakeLists.txt default)"
            kind += f", from {cache}"
            break
        d = os.path.dirname(d)
    extras = []
    try:
        out = subprocess.run(["readelf", "-S", "-W", binary], capture_output=True, text=True,
                             timeout=10).stdout
        extras.append("debug info" if ".debug_info" in out else "no debug info")
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
        libs = [line for line in out.splitlines() if "=>" in line]
        extras.append(f"{len(libs)} shared libraries (ldd)")
    except (OSError, subprocess.SubprocessError):
        pass
    extras.append(f"{os.path.getsize(binary) / 1e6:.1f} MB")
    return kind + "; " + ", ".join(extras)


# ---------------------------------------------------------------- namespaces

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWUTS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns(CLONE_NEWUTS): {os.strerror(err)}")


# ---------------------------------------------------------------- measuring

class Runner:
    """Spawns one command, waits for it with wait4 and returns what it cost."""

    def __init__(self, call_timeout):
        self.call_timeout = call_timeout
        self.pid = None
        self.timed_out = False
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        signal.signal(signal.SIGALRM, self._on_alarm)

    def _on_alarm(self, *_):
        if self.pid:
            self.timed_out = True
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the call and what it started
            except ProcessLookupError:
                pass

    def run(self, argv, env, out_fd):
        actions = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                   (os.POSIX_SPAWN_DUP2, out_fd, 1),
                   (os.POSIX_SPAWN_DUP2, out_fd, 2)]
        self.timed_out = False
        signal.setitimer(signal.ITIMER_REAL, self.call_timeout)
        try:
            t0 = time.perf_counter_ns()
            # As ContainerPilot spawns hooks: own process group, default SIGPIPE.
            self.pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setpgroup=0,
                                      setsigmask=(),
                                      setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
            _, status, ru = os.wait4(self.pid, 0)
            t1 = time.perf_counter_ns()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.pid = None
        code = os.waitstatus_to_exitcode(status)
        if self.timed_out:
            code = "timeout"
        return {"wall_ms": (t1 - t0) / 1e6, "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1e3,
                "rss_mb": ru.ru_maxrss / 1024.0, "code": code}


class Series:
    """One command on one node: its argv, environment, namespace and results."""

    def __init__(self, label, argv, env, ns_fd, out_path):
        self.label, self.argv, self.env, self.ns_fd = label, argv, env, ns_fd
        self.out_path = out_path
        self.out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.results = []
        self.rss_kb = []

    def call(self, runner, keep=True):
        setns(self.ns_fd)
        r = runner.run(self.argv, self.env, self.out_fd)
        if keep:
            self.results.append(r)
        return r

    def probe_rss(self, runner, probe, result_path):
        """One call through the RSS probe; its child's ru_maxrss in KB."""
        setns(self.ns_fd)
        r = runner.run([probe, result_path] + self.argv, self.env, self.out_fd)
        with open(result_path) as f:
            lines = f.read().split()
        os.unlink(result_path)
        if r["code"] != 0 or len(lines) != 2:
            raise RuntimeError(f"{self.label} through the RSS probe exits {r['code']}:\n"
                               f"{self.tail()}")
        self.rss_kb.append(int(lines[0]))

    def failures(self):
        return [r for r in self.results if r["code"] != 0]

    def tail(self, n=15):
        try:
            with open(self.out_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(series):
    ok = [r for r in series.results if r["code"] == 0] or series.results
    wall = [r["wall_ms"] for r in ok]
    return {
        "calls": len(series.results),
        "failed": len(series.failures()),
        "p50": percentile(wall, 0.50),
        "p95": percentile(wall, 0.95),
        "cpu": sum(r["cpu_ms"] for r in ok) / len(ok),
        "rss": max(series.rss_kb) / 1024.0,
        "rss_spawned": max(r["rss_mb"] for r in series.results),
    }


# ---------------------------------------------------------------- the cluster

def hook_env(node, job_names):
    """The environment ContainerPilot gives a hook: its own plus what it adds."""
    env = node.env()
    env["CONTAINERPILOT_PID"] = str(node.proc.pid)
    for job in job_names:
        env["CONTAINERPILOT_" + job.upper().replace("-", "_") + "_IP"] = node.ip
    return env


def build_probe(base):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler for the RSS probe (scripts/setup installs one)")
    src, exe = os.path.join(base, "rss_probe.c"), os.path.join(base, "rss_probe")
    with open(src, "w") as f:
        f.write(RSS_PROBE_C)
    subprocess.run([cc, "-O2", "-o", exe, src], check=True, capture_output=True, timeout=120)
    return exe


def port_free(ip, port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def busy_pids(node, ignore):
    """Processes running with this node's state dir (hooks, snapshots), but not `ignore`."""
    marker = f"MANAGE_STATE_DIR={node.state_dir}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in ignore:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def mysqld_pid(node):
    try:
        with open(os.path.join(node.dir, "run", "mysqld.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def start_cluster(args, base):
    consul = harness.Consul(base).start()
    cluster = harness.Cluster(consul, base, args.service, first_index=args.first_ip,
                              extra_env={"LOG_LEVEL": args.log_level})
    # ContainerPilot is frozen while we measure: its checks must not expire
    # meanwhile, no periodic snapshot-check should start before that, and the
    # primary's session must outlive the serve measurements (no health pass
    # renews it then).
    cluster.timing.update({"HEALTH_TTL": "3600", "SNAPSHOT_INTERVAL": "1h",
                           "SESSION_TTL": "3600"})
    return consul, cluster


def consul_reuse_ms(addr, requests=6):
    """p50 ms of a request on a kept-alive connection (after the first one).

    A server that writes headers and body in two sends with Nagle on makes the
    client wait for its delayed ACK (40 ms on Linux) on every reused connection.
    """
    u = urllib.parse.urlsplit(addr)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    times = []
    try:
        for i in range(requests):
            t0 = time.perf_counter()
            conn.request("GET", "/v1/status/leader")
            conn.getresponse().read()
            if i:
                times.append((time.perf_counter() - t0) * 1e3)
    finally:
        conn.close()
    return percentile(times, 0.5)


def wait_ready(cluster, nodes, log):
    svc = cluster.service
    log("waiting for both nodes to pass their health checks")
    cluster.wait_healthy(nodes, timeout=240)
    primary = harness.wait_for("a primary holding the lock", cluster.primary, timeout=60)
    replica = next(n for n in nodes if n is not primary)
    harness.wait_for("the primary to be writable", lambda: not primary.read_only(), timeout=60)
    harness.wait_for("the replica to be read-only", replica.read_only, timeout=60)
    log("waiting for the first snapshot")
    harness.wait_for("the first snapshot", lambda: cluster.consul.kv(f"{svc}-last-backup")[0],
                     timeout=300)
    harness.wait_for("the backup lock to be released",
                     lambda: cluster.consul.kv(f"{svc}-backup-running")[1] is None, timeout=120)
    harness.wait_for("the replica to replicate", lambda: replica.sql(
        "SHOW ALL SLAVES STATUS") != [], timeout=60)
    return primary, replica


# ContainerPilot's jobs that run all the time (no hook ends them): frozen with it.
LONG_RUNNING_JOBS = ("serve", "archive")


def long_running_pids(node):
    return [pid for job in LONG_RUNNING_JOBS for pid in harness.manage_pids(node, job)]


def signal_long_running(nodes, sig):
    for n in nodes:
        harness.signal_pids(long_running_pids(n), sig)


def freeze(nodes, log):
    """SIGSTOP every ContainerPilot and its long-running jobs (serve, the binlog
    archiver), then wait until their hooks have ended."""
    for n in nodes:
        os.kill(n.proc.pid, signal.SIGSTOP)
    signal_long_running(nodes, signal.SIGSTOP)
    log("ContainerPilot, serve and the archiver frozen; waiting for hooks and snapshots to end")
    for n in nodes:
        ignore = {n.proc.pid, mysqld_pid(n), os.getpid(), *long_running_pids(n)}
        harness.wait_for(f"{n.name}'s hooks to end", lambda n=n, ignore=ignore: not busy_pids(
            n, ignore), timeout=120, interval=0.1)


def thaw(nodes):
    signal_long_running([n for n in nodes if n.proc], signal.SIGCONT)
    for n in nodes:
        if n.proc:
            try:
                os.kill(n.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------- report

def report(rows, out=sys.stdout):
    head = (f"{'':<24}{'calls':>7}{'failed':>8}{'wall p50':>10}{'wall p95':>10}"
            f"{'CPU/call':>10}{'max RSS':>9}")
    unit = f"{'':<24}{'':>7}{'':>8}{'ms':>10}{'ms':>10}{'ms':>10}{'MB':>9}"
    print(head, file=out)
    print(unit, file=out)
    for label, s in rows:
        print(f"{label:<24}{s['calls']:>7}{s['failed']:>8}{s['p50']:>10.2f}{s['p95']:>10.2f}"
              f"{s['cpu']:>10.2f}{s['rss']:>9.1f}", file=out)


def verdicts(stats):
    checks = []
    for role in ("primary", "replica"):
        h, f = stats[f"{role} health"], stats[f"{role} floor"]
        ratio = h["p50"] / f["p50"]
        checks.append((f"{role}: p50 health / p50 floor = {h['p50']:.2f} / {f['p50']:.2f} ms"
                       f" = {ratio:.2f}x (target <= {P50_TARGET}x)", ratio <= P50_TARGET))
    for role in ("primary", "replica"):
        rss = stats[f"{role} health"]["rss"]
        checks.append((f"{role}: max RSS of health = {rss:.1f} MB (target <= {RSS_TARGET_MB:g} MB)",
                       rss <= RSS_TARGET_MB))
    for role in ("primary", "replica"):
        failed = stats[f"{role} health"]["failed"]
        if failed:
            checks.append((f"{role}: {failed} health calls did not exit 0", False))
    return checks


# ---------------------------------------------------------------- main

def main():
    args = parse_args()
    if args.manage:
        os.environ["MANAGE_BIN"] = os.path.abspath(args.manage)
    manage = harness.manage_bin()
    mariadb = shutil.which("mariadb")
    if not mariadb:
        print("bench: the mariadb client is not installed (scripts/setup)", file=sys.stderr)
        return 2
    # Only loopback: our own Consul on 127.0.0.1, never an agent from the
    # environment, and no HTTP proxy in the way of libcurl.
    for var in list(os.environ):
        if var in ("CONSUL_HTTP_ADDR", "CONSUL", "CONSUL_AGENT") or var.lower().endswith("_proxy"):
            del os.environ[var]

    def log(msg):
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    for line in machine_lines(manage):
        print(line)
    print(flush=True)

    ips = [harness.node_ip(args.first_ip + i) for i in range(2)]
    taken = [ip for ip in ips if not port_free(ip, 3306)]
    if taken:
        log(f"port 3306 already in use on {', '.join(taken)}: choose --first-ip")
        return 2

    def on_signal(signum, _):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    deadline = time.monotonic() + args.max_seconds
    base = harness.make_base_dir("manage-bench-")
    consul = cluster = None
    own_ns = os.open("/proc/self/ns/uts", os.O_RDONLY)
    ns_fds = []
    series = {}
    code = 2
    try:
        probe = build_probe(base)
        consul, cluster = start_cluster(args, base)
        log(f"cluster in {cluster.base_dir}, Consul at {consul.addr}")
        nodes = cluster.start(2)
        primary, replica = wait_ready(cluster, nodes, log)
        freeze(nodes, log)

        jobs = [args.service, f"{args.service}-primary"]
        runner = Runner(args.call_timeout)
        for role, node in (("primary", primary), ("replica", replica)):
            ns = os.open(f"/proc/{node.proc.pid}/ns/uts", os.O_RDONLY)
            ns_fds.append(ns)
            setns(ns)
            if socket.gethostname() != node.hostname:
                raise RuntimeError(f"{node.name}: hostname namespace not entered")
            env = hook_env(node, jobs)
            series[f"{role} health"] = Series(
                f"{role} health", [manage, "health"], env, ns,
                os.path.join(base, f"{role}-health.out"))
            series[f"{role} floor"] = Series(
                f"SELECT 1 floor, {role}",
                [mariadb, "--no-defaults", "-uroot", "-S", node.socket, "-e", "SELECT 1"],
                env, ns, os.path.join(base, f"{role}-floor.out"))
        setns(own_ns)

        # Each command must work before it is worth timing.
        for s in series.values():
            r = s.call(runner, keep=False)
            if r["code"] != 0:
                raise RuntimeError(f"{s.label} exits {r['code']}:\n{s.tail()}")

        reuse_ms = consul_reuse_ms(consul.addr)
        lock_key = f"{args.service}-primary"
        holder = consul.kv(lock_key)
        order = [series[k] for k in ("primary health", "primary floor",
                                     "replica health", "replica floor")]
        log(f"{args.warmup} warm-up and {args.calls} measured rounds "
            f"(health, floor on the primary, then on the replica)")
        for i in range(args.warmup + args.calls):
            if time.monotonic() > deadline:
                raise TimeoutError(f"still measuring after --max-seconds {args.max_seconds:g}")
            for s in order:
                s.call(runner, keep=i >= args.warmup)
        log(f"{args.rss_calls} rounds through the RSS probe")
        result_path = os.path.join(base, "rss_probe.out")
        for _ in range(args.rss_calls):
            for s in order:
                s.probe_rss(runner, probe, result_path)
        # The least the probe can report: /bin/true through it.
        true = Series("true", [shutil.which("true")], dict(os.environ), own_ns,
                      os.path.join(base, "true.out"))
        true.probe_rss(runner, probe, result_path)
        true_mb = true.rss_kb[0] / 1024.0
        os.close(true.out_fd)
        setns(own_ns)

        serve_lines = bench_serve.run(primary, replica, log)
        # The run measured the steady state only if nothing changed hands.
        steady = consul.kv(lock_key) == holder and holder[1] is not None \
            and primary.state("role") == "primary" and replica.state("role") == "replica"
        stats = {k: summary(s) for k, s in series.items()}
        kind = "consul agent" if shutil.which("consul") else "Consul double"
        print(f"Consul: {kind} at {consul.addr}; a request on a kept-alive connection: "
              f"{reuse_ms:.2f} ms (p50)")
        if reuse_ms > 20:
            print("  NOTE: this Consul stalls every response on a reused connection (headers "
                  "and body\n  sent apart, Nagle + delayed ACK): the health times below "
                  "include that stall.")
        print(f"manage health vs. `mariadb -e 'SELECT 1'` over the same socket, "
              f"{args.calls} interleaved calls each, LOG_LEVEL={args.log_level}")
        report([(s.label, stats[k]) for k, s in series.items() if "health" in k]
               + [(s.label, stats[k]) for k, s in series.items() if "floor" in k])
        spawned = max(stats[k]["rss_spawned"] for k in series)
        print(f"max RSS: the command's own peak (ru_maxrss from wait4 in a small forking probe, "
              f"{args.rss_calls} calls each;\n  /bin/true through it: {true_mb:.1f} MB). "
              f"Spawned straight from this Python process every\n  command reports "
              f"{spawned:.1f} MB, the spawner's own peak, inherited through posix_spawn.")
        print()
        for line in serve_lines:
            print(line)
        print()
        checks = verdicts(stats)
        if not steady:
            checks.append(("the primary lock or a role changed during the run: not the steady "
                           "state", False))
        for text, ok in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        all_ok = all(ok for _, ok in checks)
        print(f"\n{'PASS' if all_ok else 'FAIL'}")
        for s in series.values():
            if s.failures():
                log(f"{s.label}: last output\n{s.tail()}")
        code = 0 if all_ok else 1
    except (KeyboardInterrupt, Interrupted) as e:
        log(f"interrupted ({str(e) or 'SIGINT'}): cleaning up")
        code = 130
    except Exception as e:  # noqa: BLE001 - any failure: report, clean up, exit 2
        log(f"failed: {e}")
        if cluster:
            print(cluster.dump_logs(tail=30), file=sys.stderr)
        code = 2
    finally:
        # No second Ctrl-C half-way through the cleanup.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        try:
            setns(own_ns)
        except OSError:
            pass
        for fd in ns_fds + [own_ns] + [s.out_fd for s in series.values()]:
            os.close(fd)
        if cluster:
            thaw(cluster.nodes)
            cluster.stop()
        if consul:
            consul.stop()
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
