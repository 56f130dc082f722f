"""The local demo cluster: three nodes assembling themselves (see scripts/demo)."""

import argparse
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, Consul, wait_for  # noqa: E402

BASE = os.environ.get("DEMO_DIR", "/tmp/manage-demo")
PIDFILE = os.path.join(BASE, "demo.pid")


def say(text):
    print(f"\n==> {text}", flush=True)


def show_status(node):
    out = node.manage("status")
    print(out.stdout if out.returncode == 0 else out.stderr, end="", flush=True)


def stop_other():
    try:
        with open(PIDFILE) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        print(f"no demo is running (no {PIDFILE})")
        return 1
    os.kill(pid, signal.SIGTERM)
    wait_for("the demo to stop", lambda: not os.path.exists(f"/proc/{pid}"), timeout=120)
    print("demo stopped")
    return 0


def assemble(cluster):
    say("starting three nodes on 127.0.0.2, 127.0.0.3, 127.0.0.4")
    nodes = cluster.start(3)
    names = {n.name for n in nodes}
    deadline = time.monotonic() + 240
    seen = None
    while time.monotonic() < deadline:
        healthy = cluster.healthy()
        state = (cluster.primary_name(), tuple(sorted(healthy)))
        if state != seen:
            seen = state
            print(f"   primary lock: {state[0] or '(free)'}; passing: "
                  f"{', '.join(state[1]) or '(none yet)'}", flush=True)
        if names <= healthy and state[0]:
            return nodes
        time.sleep(1)
    raise TimeoutError("the cluster did not assemble in 240s; logs are in " + cluster.base_dir)


def replicate_a_row(cluster, nodes):
    primary = wait_for("the primary to be writable",
                       lambda: (p := cluster.primary()) and not p.read_only() and p, timeout=60)
    say(f"writing a row on the primary {primary.name}")
    primary.sql("CREATE TABLE IF NOT EXISTS demo (id INT PRIMARY KEY, note VARCHAR(80))", "appdb")
    primary.sql("INSERT INTO demo VALUES (1, 'written on the primary') "
                "ON DUPLICATE KEY UPDATE note=VALUES(note)", "appdb")
    for replica in (n for n in nodes if n is not primary):
        cluster.wait_row(replica, "demo", 1)
        row = replica.sql("SELECT id, note FROM demo", "appdb")[0]
        print(f"   {replica.name} (read_only={'ON' if replica.read_only() else 'OFF'}): {row}")


def interrupt(signum, frame):
    """SIGTERM (scripts/demo --stop) stops the demo like Ctrl-C does."""
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description="run the local three-node demo cluster")
    parser.add_argument("--stop", action="store_true", help="stop a running demo")
    parser.add_argument("--once", action="store_true", help="show the demo, then stop")
    args = parser.parse_args()
    if args.stop:
        return stop_other()
    if os.path.exists(PIDFILE):
        print(f"a demo seems to be running already ({PIDFILE}); use scripts/demo --stop")
        return 1
    os.makedirs(BASE, exist_ok=True)
    os.chmod(BASE, 0o755)
    with open(PIDFILE, "w") as f:
        f.write(str(os.getpid()))
    signal.signal(signal.SIGTERM, interrupt)
    consul = cluster = None
    try:
        consul = Consul(BASE).start()
        say(f"Consul at {consul.addr}")
        cluster = Cluster(consul, BASE, "mysql")
        nodes = assemble(cluster)
        say("the cluster assembled itself: manage status")
        show_status(nodes[0])
        replicate_a_row(cluster, nodes)
        say("manage status, once more")
        show_status(nodes[0])
        if args.once:
            return 0
        n = nodes[0]
        say("the cluster is running. Try, in another shell:")
        print(f"   mariadb -uroot -S {n.socket} appdb -e 'SELECT * FROM demo'\n"
              f"   env $(cat {n.dir}/env | xargs) {cluster.manage} status\n"
              f"   status page: http://{n.ip}:8008/ (also /primary, /replica, /metrics)\n"
              f"   logs: {BASE}/mysql/node*/containerpilot.log\n"
              f"Stop with Ctrl-C here, or scripts/demo --stop.", flush=True)
        with open(os.path.join(n.dir, "env"), "w") as f:
            for key in ("SERVICE_NAME", "CONSUL_HTTP_ADDR", "MYSQL_REPL_USER",
                        "MYSQL_REPL_PASSWORD", "MANAGE_STATE_DIR", "NODE_IP"):
                f.write(f"{key}={n.env()[key]}\n")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        say("stopping the demo")
        if cluster:
            for node in cluster.nodes:
                node.stop(signal.SIGTERM, timeout=60)
        if consul:
            consul.stop()
        shutil.rmtree(BASE, ignore_errors=True)
        print("stopped and removed", BASE, flush=True)


if __name__ == "__main__":
    sys.exit(main())
