"""What `manage serve` costs and how fast it answers (part of scripts/bench).

Run on the bench cluster after the health measurements: each node's serve is
thawed (it was frozen with ContainerPilot so that it added nothing to the
health figures), then
  - idle: its CPU time (utime + stime from /proc) over a quiet window, and its
    resident memory (VmRSS), while it refreshes its facts as in production;
  - load: `wrk` (Debian's) against /primary on the primary and /replica on the
    replica: requests per second and the p50/p99 latency wrk reports, and how
    many answers were not 200 (a check that would have failed).
"""

import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import harness

SERVE_PORT = 8008


def serve_pids(node):
    """PIDs of the node's `manage serve` processes."""
    return harness.manage_pids(node, "serve")


def signal_serve(nodes, sig):
    for n in nodes:
        harness.signal_pids(serve_pids(n), sig)


def status(node, path):
    try:
        with urllib.request.urlopen(f"http://{node.ip}:{SERVE_PORT}{path}", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def rss_mb(pid):
    return harness.status_kb(pid, "VmRSS") / 1024.0


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000.0 if unit == "us" else value * 1000.0 if unit == "s" else value


def parse_wrk(out):
    result = {"rps": float("nan"), "p50": float("nan"), "p99": float("nan"), "non200": 0,
              "errors": 0}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        elif re.match(r"^50%\s", line):
            result["p50"] = to_ms(line.split()[1])
        elif re.match(r"^99%\s", line):
            result["p99"] = to_ms(line.split()[1])
        elif line.startswith("Non-2xx or 3xx responses:"):
            result["non200"] = int(line.split(":")[1])
        elif line.startswith("Socket errors:"):
            result["errors"] = sum(int(x) for x in re.findall(r"\d+", line))
    return result


def run(primary, replica, log, idle_seconds=10, wrk_seconds=10, connections=16):
    """Thaws serve on both nodes, measures, and returns the report's lines."""
    nodes = [primary, replica]
    if not all(serve_pids(n) for n in nodes):
        return ["manage serve: not running on the nodes (a binary without it?): not measured"]
    signal_serve(nodes, signal.SIGCONT)
    deadline = time.monotonic() + 60
    while not (status(primary, "/primary") == 200 and status(replica, "/replica") == 200):
        if time.monotonic() > deadline:
            return [f"manage serve: /primary {status(primary, '/primary')} on the primary, "
                    f"/replica {status(replica, '/replica')} on the replica after 60 s: "
                    "not measured"]
        time.sleep(0.5)
    time.sleep(2)
    log(f"manage serve: {idle_seconds} s idle")
    pids = {n.name: serve_pids(n)[0] for n in nodes}
    before = {name: harness.cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(idle_seconds)
    idle = {name: (harness.cpu_seconds(pid) - before[name]) / idle_seconds * 100.0
            for name, pid in pids.items()}
    rss_idle = {name: rss_mb(pid) for name, pid in pids.items()}
    lines = [f"manage serve, idle over {idle_seconds} s (facts refreshed every half "
             f"HEALTH_INTERVAL, cluster view every interval):"]
    for role, n in (("primary", primary), ("replica", replica)):
        lines.append(f"  {role:<8} CPU {idle[n.name]:.2f}% of one core, RSS {rss_idle[n.name]:.1f} MB")
    wrk = shutil.which("wrk")
    if not wrk:
        return lines + ["wrk is not installed (scripts/setup installs it): no load figures"]
    lines.append(f"wrk -t2 -c{connections} -d{wrk_seconds}s (keep-alive), from this machine:")
    lines.append(f"  {'':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-200':>9}{'errors':>8}")
    for role, n, path in (("primary", primary, "/primary"), ("replica", replica, "/replica")):
        log(f"wrk {path} on the {role}")
        out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{wrk_seconds}s", "--latency",
                              f"http://{n.ip}:{SERVE_PORT}{path}"],
                             capture_output=True, text=True, timeout=wrk_seconds + 60).stdout
        r = parse_wrk(out)
        lines.append(f"  {path + ' on the ' + role:<22}{r['rps']:>10.0f}{r['p50']:>9.2f}"
                     f"{r['p99']:>9.2f}{r['non200']:>9}{r['errors']:>8}")
    rss_after = {name: rss_mb(pid) for name, pid in pids.items()}
    lines.append("  RSS after the load: " + ", ".join(
        f"{role} {rss_after[n.name]:.1f} MB" for role, n in (("primary", primary),
                                                            ("replica", replica))))
    return lines
