#!/usr/bin/env python3
"""What the binlog archive costs and delivers, on a one-node cluster it starts.

Under a steady write load (--rate autocommit INSERTs a second for --seconds,
from four clients), measures:

  lag      for every write, from its commit (the client has its OK) to the
           moment the archive's published head (BINLOG_ARCHIVE_KEY/head in
           Consul, moved right after each tail is committed to the store)
           holds its GTID: p50, p95, max, against BINLOG_ARCHIVE_RPO
  cost     the archiver process's CPU (share of one core) over the load and
           its peak RSS; mariadbd's CPU beside it for scale
  restore  `manage backup restore --to-gtid <last write>` from the snapshot
           taken before the load: binlog events replayed per second (its own
           log line), and the whole restore's wall time

Targets: lag p95 and max at most the RPO; the archiver at most 10% of a core
and 64 MB of RSS. Exit status: 0 targets met, 1 a target missed, 2 the run
itself failed.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import cpu_seconds, status_kb  # noqa: E402
from bench import machine_lines, percentile  # noqa: E402
from pitr import archiver_pid  # noqa: E402

SERVICE = "bencharch"
CPU_TARGET = 0.10
RSS_TARGET_MB = 64.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60, help="length of the load (default 60)")
    p.add_argument("--rate", type=float, default=500, help="writes a second (default 500)")
    p.add_argument("--rpo", type=int, default=None,
                   help="BINLOG_ARCHIVE_RPO in seconds (default: the product's default, 10)")
    p.add_argument("--store", choices=("local", "s3"), default="local",
                   help="local (a directory) or s3 (the S3 test world) (default local)")
    p.add_argument("--manage", default=os.environ.get("MANAGE_BIN"),
                   help="manage binary (default $MANAGE_BIN, else build/cmd/manage/manage)")
    p.add_argument("--first-ip", type=int, default=50,
                   help="the node listens on <net>.<N+1> (default 50)")
    p.add_argument("--keep", action="store_true", help="keep the base directory")
    a = p.parse_args()
    if a.seconds <= 0 or a.rate <= 0:
        p.error("--seconds and --rate must be positive")
    return a


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class HeadWatcher(threading.Thread):
    """Polls the archive's published head every 20 ms: (time, seqno) at each change."""

    def __init__(self, consul):
        super().__init__(daemon=True)
        self.url = f"{consul.addr}/v1/kv/{SERVICE}-binlog-archive/head?raw"
        self.changes = []
        self.stop = threading.Event()

    def run(self):
        last = -1
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    seqno = int(json.loads(r.read())["gtid"].split("-")[2])
                if seqno != last:
                    self.changes.append((time.time(), seqno))
                    last = seqno
            except (OSError, ValueError, KeyError):
                pass
            self.stop.wait(0.02)

    def seen(self, seqno):
        for t, s in self.changes:
            if s >= seqno:
                return t
        return None


def write_load(node, rate, seconds, clients=4):
    """Autocommit INSERTs at `rate` a second in all, from `clients` connections,
    each paced evenly; returns [(seqno, commit time)]."""
    setup = node.connect("appdb", timeout=30)
    with setup.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS w (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    "k INT NOT NULL, v VARCHAR(200) NOT NULL)")
    setup.close()
    done, lock, errors = [], threading.Lock(), []
    start = time.monotonic() + 0.5
    per_client = int(rate * seconds / clients)

    def client(c):
        conn = node.connect("appdb", timeout=30)
        mine = []
        try:
            with conn.cursor() as cur:
                for i in range(per_client):
                    wait = start + (i + c / clients) * clients / rate - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    cur.execute("INSERT INTO w (k, v) VALUES (%s, REPEAT('x', 120))", (i,))
                    committed = time.time()
                    cur.execute("SELECT @@last_gtid")
                    mine.append((int(cur.fetchone()[0].split("-")[2]), committed))
        except Exception as e:  # reported below: a bench whose writers failed is void
            errors.append(e)
        finally:
            conn.close()
            with lock:
                done.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a writer failed: {errors[0]}")
    return sorted(done)


def logfmt(line):
    return {m.group(1): m.group(2).strip('"') for m in
            re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)}


def run(args, base):
    consul = harness.Consul(base).start()
    env = {"SESSION_TTL": "86400", "LOG_LEVEL": "INFO", "INNODB_BUFFER_POOL_SIZE": "256"}
    world = None
    if args.store == "s3":
        from s3world import S3World
        world = S3World(base).start()
        env.update({k: "" for k in os.environ if k.startswith("AWS_")})
        env.update(world.env())
    if args.rpo:
        env["BINLOG_ARCHIVE_RPO"] = str(args.rpo)
    rpo = args.rpo or 10
    cluster = harness.Cluster(consul, base, SERVICE, first_index=args.first_ip, extra_env=env)
    cluster.timing.update({"HEALTH_TTL": "86400", "SNAPSHOT_INTERVAL": "24h"})
    try:
        node = cluster.add().start()
        cluster.wait_healthy([node], timeout=240)
        harness.wait_for("the node to hold the lock", cluster.primary, timeout=60)
        harness.wait_for("the first snapshot", lambda: consul.kv(f"{SERVICE}-last-backup")[0],
                         timeout=300)
        harness.wait_for("the archive to start",
                         lambda: consul.kv(f"{SERVICE}-binlog-archive/head")[0], timeout=60)
        pid, mysqld = archiver_pid(node), node.mysqld_pid()
        watcher = HeadWatcher(consul)
        watcher.start()
        cpu0, db0, t0 = cpu_seconds(pid), cpu_seconds(mysqld), time.monotonic()
        log(f"load: {args.rate:.0f} writes/s for {args.seconds:.0f} s")
        writes = write_load(node, args.rate, args.seconds)
        wall = time.monotonic() - t0
        cpu1, db1 = cpu_seconds(pid), cpu_seconds(mysqld)
        last = writes[-1][0]
        harness.wait_for("the archive to hold the last write",
                         lambda: watcher.seen(last) is not None, timeout=rpo * 3 + 30)
        cpu2 = cpu_seconds(pid)
        watcher.stop.set()
        lags = [watcher.seen(s) - t for s, t in writes]
        rss_peak, rss_now = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")

        log("restore: from the snapshot before the load, up to the last write")
        datadir = os.path.join(base, "restored")
        t = time.monotonic()
        server_id = node.sql("SELECT @@server_id")[0][0]
        out = node.manage("backup", "restore", "--to-gtid", f"0-{server_id}-{last}",
                          "--datadir", datadir, timeout=3600)
        restore_wall = time.monotonic() - t
        if out.returncode != 0:
            raise RuntimeError(f"restore failed: {out.stderr[-2000:]}")
        done = [logfmt(line) for line in out.stderr.splitlines()
                if "point-in-time restore done" in line][-1]
    finally:
        cluster.stop()
        consul.stop()
        if world:
            world.stop()

    achieved = len(writes) / wall
    print("\n".join(machine_lines(args.manage)))
    print(f"load:    {len(writes)} writes in {wall:.1f} s ({achieved:.0f}/s), 4 clients, "
          f"BINLOG_ARCHIVE_RPO {rpo} s, {args.store} store, zstd")
    print()
    print("| archive lag (commit -> published) | p50 | p95 | max |")
    print("|---|---|---|---|")
    print(f"| seconds | {percentile(lags, 0.5):.2f} | {percentile(lags, 0.95):.2f} | "
          f"{max(lags):.2f} |")
    print()
    cpu = (cpu1 - cpu0) / wall
    print("| cost on the primary | CPU (share of one core) | RSS peak | RSS now |")
    print("|---|---|---|---|")
    print(f"| manage archive | {cpu * 100:.1f}% ({cpu1 - cpu0:.2f} s CPU, "
          f"{cpu2 - cpu0:.2f} s to the end) | {rss_peak / 1024:.1f} MB | {rss_now / 1024:.1f} MB |")
    print(f"| mariadbd (the load itself) | {(db1 - db0) / wall * 100:.1f}% | | |")
    print()
    events, replay_ms = int(done["events"]), int(done["replay_ms"])
    print("| restore | transactions | events | replay | events/s | whole restore |")
    print("|---|---|---|---|---|---|")
    print(f"| --to-gtid last write | {done['transactions']} | {events} | {replay_ms / 1000:.1f} s "
          f"| {done['events_per_s']} | {restore_wall:.1f} s |")
    print()
    checks = [(f"lag p95 {percentile(lags, 0.95):.2f} s <= RPO {rpo} s",
               percentile(lags, 0.95) <= rpo),
              (f"lag max {max(lags):.2f} s <= RPO {rpo} s", max(lags) <= rpo),
              (f"archiver CPU {cpu * 100:.1f}% <= {CPU_TARGET * 100:.0f}% of a core",
               cpu <= CPU_TARGET),
              (f"archiver peak RSS {rss_peak / 1024:.1f} MB <= {RSS_TARGET_MB:.0f} MB",
               rss_peak / 1024 <= RSS_TARGET_MB)]
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


def main():
    args = parse_args()
    if args.manage:
        os.environ["MANAGE_BIN"] = args.manage
    args.manage = harness.manage_bin()
    base = tempfile.mkdtemp(prefix="manage-bench-archive-")
    os.chmod(base, 0o755)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return run(args, base)
    except (RuntimeError, TimeoutError, subprocess.SubprocessError, OSError) as e:
        log(f"failed: {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 2
    finally:
        if args.keep:
            log(f"kept {base}")
        else:
            subprocess.run(["rm", "-rf", base], check=False)


if __name__ == "__main__":
    sys.exit(main())
