#!/usr/bin/env python3
"""What a snapshot and a restore cost, beside the standard tools doing the same.

Starts a 1-node cluster with the harness (its own Consul, a node on
<net>.<first-ip + 1>), fills a database of at least --size-gb GiB of rows that
compress about as well as real tables do, freezes ContainerPilot (nothing of
its own runs while we measure; the session and check TTLs are a day), and then,
for each store:

  floor    the same mariabackup stream written by the standard tool to the
           same place: to /dev/null (the source's own limit), to a file then
           `sync` (local), and what the store's module gives (S3: `aws s3 cp -`,
           Manta: `curl -T -`)
  manage   `manage snapshot --force` into the store, without compression, with
           zstd, and with zstd and encryption: wall time, MB/s of the backup
           stream, stored size, manage's own CPU and peak RSS (from its log
           line: its own process, threads included, mariabackup excluded)
  restore  `manage backup restore` of the uncompressed and of the encrypted
           snapshot (the code pre_start runs), beside the raw path: the store's
           tool fetching the same stream (cat, `aws s3 cp ... -`, curl) into
           `mbstream -x`, then `mariabackup --prepare`

Each figure is the median of --runs runs. Targets: each store at least 90%
of its floor's throughput without compression; manage's own CPU at most 1 s
per GB without compression or encryption; manage's peak RSS at most 64 MB
whatever the size; restore at most 1.3x the raw path.
Exit status: 0 targets met, 1 a target missed, 2 the run itself failed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "doubles"))
import harness  # noqa: E402
from bench import machine_lines, percentile  # noqa: E402
from manta_world import MantaDouble  # noqa: E402
from s3world import AWS_CLI, S3World  # noqa: E402

THROUGHPUT_TARGET = 0.90
CPU_PER_GB_TARGET_S = 1.0
RSS_TARGET_MB = 64.0
RESTORE_TARGET = 1.3
KEY = "6d616e6167652d62656e63682d6b65792d3235362d6269742d2d2d2d2d2d2d21"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-gb", type=float, default=1.0,
                   help="GiB of table data to generate (default 1.0)")
    p.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    p.add_argument("--stores", default="local,s3,manta",
                   help="comma-separated stores to measure (default local,s3,manta)")
    p.add_argument("--manage", default=os.environ.get("MANAGE_BIN"),
                   help="manage binary (default $MANAGE_BIN, else build/cmd/manage/manage)")
    p.add_argument("--first-ip", type=int, default=46,
                   help="the node listens on <net>.<N+1> (default 46)")
    p.add_argument("--keep", action="store_true", help="keep the base directory")
    a = p.parse_args()
    if a.runs < 1 or a.size_gb <= 0:
        p.error("--runs must be at least 1 and --size-gb positive")
    return a


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def timed(argv, env=None, stdin=None, stdout=subprocess.DEVNULL, timeout=3600):
    """Runs argv; returns (seconds, completed process)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=timeout)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {p.returncode}: {p.stderr.decode()[-800:]}")
    return elapsed, p


def logfmt(line):
    """The key=value fields of one logfmt line."""
    return {m.group(1): m.group(2).strip('"') for m in
            re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)}


def fill(node, gib):
    """Rows of mixed, compressible data until the table holds `gib` GiB."""
    node.sql("CREATE TABLE IF NOT EXISTS bench (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
             "k INT NOT NULL, a CHAR(64) NOT NULL, b VARCHAR(400) NOT NULL, KEY (k)) "
             "ENGINE=InnoDB", "appdb")
    node.sql("INSERT INTO bench (k, a, b) VALUES (1, MD5(1), 'seed')", "appdb")
    target = int(gib * (1 << 30))
    while True:
        node.sql("ANALYZE TABLE bench", "appdb")  # the size below is a statistic
        size = int(node.sql("SELECT data_length + index_length FROM information_schema.tables "
                            "WHERE table_schema='appdb' AND table_name='bench'")[0][0])
        if size >= target:
            return size
        log(f"table at {size / (1 << 20):.0f} MiB of {target / (1 << 20):.0f}")
        node.sql("INSERT INTO bench (k, a, b) SELECT FLOOR(RAND() * 1000000), "
                 "CONCAT(MD5(RAND()), MD5(id)), CONCAT_WS(' ', 'order', id, 'status', "
                 "ELT(1 + (id % 4), 'new', 'paid', 'shipped', 'returned'), "
                 "REPEAT(SUBSTRING(MD5(id), 1, 8), 20)) FROM bench "
                 f"LIMIT {max(1000, min(2_000_000, (target - size) // 300))}", "appdb")


class Bench:
    def __init__(self, args, base, node, cluster):
        self.args, self.base, self.node, self.cluster = args, base, node, cluster
        self.cnf = os.path.join(base, "bench-backup.cnf")
        with open(self.cnf, "w") as f:
            f.write(f"[mariabackup]\nuser=repl\npassword=repl-secret\nsocket={node.socket}\n")
        os.chmod(self.cnf, 0o600)
        self.rows = []   # (store, what, figures)
        self.checks = []

    def backup_argv(self, target):
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        return ["mariabackup", f"--defaults-extra-file={self.cnf}", "--backup",
                "--stream=xbstream", f"--target-dir={target}"]

    def median(self, fn, runs=None):
        results = [fn() for _ in range(runs or self.args.runs)]
        keys = results[0].keys()
        return {k: percentile([r[k] for r in results], 0.5) for k in keys}

    # ---- floors

    def floor_devnull(self):
        def once():
            with open(os.devnull, "wb") as out:
                t, _ = timed(self.backup_argv(os.path.join(self.base, "fl")), stdout=out)
            return {"wall": t}
        return self.median(once)

    def floor_pipe(self, consumer, stored_size):
        """mariabackup | consumer (the store's own streaming upload tool)."""
        def once():
            backup = subprocess.Popen(self.backup_argv(os.path.join(self.base, "fl")),
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            t0 = time.perf_counter()
            rc = consumer(backup.stdout)
            backup.stdout.close()
            if backup.wait() != 0 or rc != 0:
                raise RuntimeError(f"the floor pipeline failed: mariabackup {backup.returncode}, "
                                   f"upload {rc}")
            return {"wall": time.perf_counter() - t0, "bytes": stored_size()}
        return self.median(once)

    def floor_file(self, path):
        def once():
            with open(path, "wb") as out:
                t0 = time.perf_counter()
                timed(self.backup_argv(os.path.join(self.base, "fl")), stdout=out)
                subprocess.run(["sync"], check=True)
                t = time.perf_counter() - t0
            return {"wall": t, "bytes": os.path.getsize(path)}
        return self.median(once)

    # ---- manage

    def snapshot(self, env, runs=None):
        def once():
            t, p = timed([self.cluster.manage, "snapshot", "--force"], env=env)
            stored = [logfmt(line) for line in p.stderr.decode().splitlines()
                      if "snapshot stored" in line]
            if not stored:
                raise RuntimeError("no 'snapshot stored' line:\n" + p.stderr.decode()[-800:])
            f = stored[-1]
            self.last_id = f["id"]
            return {"wall": t, "bytes": int(f["raw_size"]), "stored": int(f["size"]),
                    "cpu": int(f["cpu_ms"]) / 1000.0, "rss": int(f["max_rss_kb"]) / 1024.0,
                    "stream": int(f["duration_ms"]) / 1000.0}
        return self.median(once, runs)

    def restore(self, env, snapshot_id):
        def once():
            target = os.path.join(self.base, "restored")
            shutil.rmtree(target, ignore_errors=True)
            t, p = timed([self.cluster.manage, "backup", "restore", snapshot_id, "--datadir",
                          target], env=env)
            f = next(logfmt(line) for line in p.stderr.decode().splitlines()
                     if "snapshot restored" in line)
            shutil.rmtree(target, ignore_errors=True)
            return {"wall": t, "cpu": int(f["cpu_ms"]) / 1000.0,
                    "rss": int(f["max_rss_kb"]) / 1024.0}
        return self.median(once)

    def raw_restore(self, producer, env=None):
        """`producer | mbstream -x`, then `mariabackup --prepare`: the standard
        tools fetching the same stream from the same store and unpacking it."""
        def once():
            target = os.path.join(self.base, "raw-restored")
            shutil.rmtree(target, ignore_errors=True)
            os.makedirs(target)
            t0 = time.perf_counter()
            fetch = subprocess.Popen(producer, stdout=subprocess.PIPE, env=env,
                                     stderr=subprocess.DEVNULL)
            unpack = subprocess.run(["mbstream", "-x", "-C", target], stdin=fetch.stdout,
                                    stderr=subprocess.PIPE, timeout=3600)
            fetch.stdout.close()
            if fetch.wait() != 0 or unpack.returncode != 0:
                raise RuntimeError(f"raw restore failed: {producer[0]} {fetch.returncode}, "
                                   f"mbstream {unpack.returncode}")
            timed(["mariabackup", "--prepare", f"--target-dir={target}"])
            t = time.perf_counter() - t0
            shutil.rmtree(target, ignore_errors=True)
            return {"wall": t}
        return self.median(once)

    # ---- one store

    def env_for(self, store_env, compression, key):
        env = self.node.env()
        env.update(store_env)
        env.update({"SNAPSHOT_COMPRESSION": compression, "LOG_LEVEL": "INFO",
                    "SNAPSHOT_RETAIN_COUNT": "0"})
        env.pop("SNAPSHOT_ENCRYPTION_KEY", None)
        if key:
            env["SNAPSHOT_ENCRYPTION_KEY"] = KEY
        return env

    def measure_store(self, name, store_env, floor):
        # Unmeasured: creates the store's directory or bucket prefix, warms caches.
        log(f"{name}: warm-up snapshot")
        self.snapshot(self.env_for(store_env, "none", False), runs=1)
        log(f"{name}: floor")
        self.rows.append((name, floor[0], floor[1]()))
        results = {}
        for label, compression, key in (("manage, none", "none", False),
                                        ("manage, zstd", "zstd", False),
                                        ("manage, zstd+aes", "zstd", True)):
            log(f"{name}: {label}")
            env = self.env_for(store_env, compression, key)
            r = self.snapshot(env)
            results[label] = (r, self.last_id, env)
            self.rows.append((name, label, r))
        floor_row = self.rows[-4][2]
        plain = results["manage, none"][0]
        ratio = (plain["bytes"] / plain["wall"]) / (floor_row.get("bytes", plain["bytes"]) /
                                                   floor_row["wall"])
        self.checks.append((f"{name}: throughput without compression {ratio:.2f}x the floor "
                            f"(target >= {THROUGHPUT_TARGET})", ratio >= THROUGHPUT_TARGET))
        gb = plain["bytes"] / 1e9
        self.checks.append((f"{name}: manage's CPU without compression or encryption "
                            f"{plain['cpu'] / gb:.2f} s/GB (target <= {CPU_PER_GB_TARGET_S})",
                            plain["cpu"] / gb <= CPU_PER_GB_TARGET_S))
        worst_rss = max(r[0]["rss"] for r in results.values())
        self.checks.append((f"{name}: manage's peak RSS {worst_rss:.0f} MB (target <= "
                            f"{RSS_TARGET_MB:.0f} MB)", worst_rss <= RSS_TARGET_MB))
        return results

    def measure_restores(self, name, results, raw):
        for label in ("manage, none", "manage, zstd+aes"):
            r, snapshot_id, env = results[label]
            log(f"{name}: restore of {label}")
            rr = self.restore(env, snapshot_id)
            rr["bytes"] = r["bytes"]
            self.rows.append((name, "restore " + label.split(", ")[1], rr))
            if label == "manage, none":
                ratio = rr["wall"] / raw["wall"]
                self.checks.append((f"{name}: restore {ratio:.2f}x the raw path (target <= "
                                    f"{RESTORE_TARGET})", ratio <= RESTORE_TARGET))

    # ---- report

    def report(self, out=sys.stdout):
        print(f"{'store':<7}{'what':<22}{'wall s':>8}{'MB/s':>8}{'stored MB':>11}"
              f"{'CPU s':>8}{'CPU s/GB':>10}{'RSS MB':>8}", file=out)
        for store, what, r in self.rows:
            mb = r.get("bytes", 0) / 1e6
            rate = f"{mb / r['wall']:.0f}" if mb else "-"
            stored = f"{r['stored'] / 1e6:.0f}" if "stored" in r else "-"
            cpu = f"{r['cpu']:.2f}" if "cpu" in r else "-"
            per_gb = f"{r['cpu'] / (mb / 1e3):.2f}" if "cpu" in r and mb else "-"
            rss = f"{r['rss']:.0f}" if "rss" in r else "-"
            print(f"{store:<7}{what:<22}{r['wall']:>8.2f}{rate:>8}{stored:>11}{cpu:>8}"
                  f"{per_gb:>10}{rss:>8}", file=out)


def main():
    args = parse_args()
    if args.manage:
        os.environ["MANAGE_BIN"] = os.path.abspath(args.manage)
    manage = harness.manage_bin()
    for var in list(os.environ):
        if var in ("CONSUL_HTTP_ADDR", "CONSUL", "CONSUL_AGENT") or var.lower().endswith("_proxy"):
            del os.environ[var]
    for line in machine_lines(manage):
        print(line)
    print(flush=True)
    base = tempfile.mkdtemp(prefix="manage-bench-snapshot-")
    os.chmod(base, 0o755)
    consul = cluster = None
    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        consul = harness.Consul(base).start()
        cluster = harness.Cluster(consul, base, "benchsnap", first_index=args.first_ip,
                                  extra_env={"SESSION_TTL": "86400", "LOG_LEVEL": "INFO",
                                             "INNODB_BUFFER_POOL_SIZE": "256"})
        cluster.timing.update({"HEALTH_TTL": "86400", "SNAPSHOT_INTERVAL": "24h"})
        node = cluster.add().start()
        cluster.wait_healthy([node], timeout=240)
        harness.wait_for("the node to hold the lock", cluster.primary, timeout=60)
        harness.wait_for("the first snapshot",
                         lambda: consul.kv("benchsnap-last-backup")[0], timeout=300)
        size = fill(node, args.size_gb)
        log(f"table holds {size / (1 << 30):.2f} GiB")
        os.kill(node.proc.pid, signal.SIGSTOP)
        time.sleep(2)
        bench = Bench(args, base, node, cluster)
        stream_file = os.path.join(base, "stream.xb")
        bench.floor_file(stream_file)  # the local raw restore's input
        log("source: mariabackup to /dev/null")
        bench.rows.append(("source", "mariabackup > null", bench.floor_devnull()))
        stores = [s.strip() for s in args.stores.split(",") if s.strip()]
        worlds = []
        stream_bytes = os.path.getsize(stream_file)
        for name in stores:
            if name == "local":
                store_env = {"SNAPSHOT_BACKEND": "local",
                             "STORAGE_DIR": os.path.join(base, "bench-store")}
                floor = ("floor: file + sync", lambda: bench.floor_file(stream_file))
                fetch, fetch_env = ["cat", stream_file], None
            elif name == "s3":
                world = S3World(base, tls=True).start()
                worlds.append(world)
                store_env = world.env()
                floor = ("floor: aws s3 cp -", lambda w=world: bench.floor_pipe(
                    lambda src: w.aws("s3", "cp", "-", f"s3://{w.bucket}/floor", check=False,
                                      stdin=src, timeout=3600).returncode,
                    lambda: w.keys("floor")["floor"]))
                fetch = [AWS_CLI, "--endpoint-url", world.endpoint, "--ca-bundle", world.ca_file,
                         "s3", "cp", f"s3://{world.bucket}/floor", "-"]
                fetch_env = {"PATH": "/usr/bin:/bin", "HOME": world.dir,
                             "AWS_ACCESS_KEY_ID": world.ACCESS_KEY,
                             "AWS_SECRET_ACCESS_KEY": world.SECRET_KEY,
                             "AWS_DEFAULT_REGION": world.region, "AWS_CONFIG_FILE": "/dev/null",
                             "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
            elif name == "manta":
                world = MantaDouble(base, max_streaming_mb=64 * 1024).start()
                worlds.append(world)
                store_env = dict(world.env(bucket="/manage/stor/bench"),
                                 SNAPSHOT_BACKEND="manta")
                floor = ("floor: curl -T -", lambda w=world: bench.floor_pipe(
                    lambda src: w.put_stream("/manage/stor/bench/floor", src,
                                             max_content_length=64 << 30),
                    lambda: next(r["bytes"] for r in reversed(w.requests())
                                 if r["method"] == "PUT" and r["path"].endswith("/floor"))))
                fetch = [os.path.join(harness.DOUBLES, "manta-put"), "--get", world.url,
                         "/manage/stor/bench/floor"]
                fetch_env = None
            else:
                raise RuntimeError(f"unknown store '{name}': local, s3, manta")
            results = bench.measure_store(name, store_env, floor)
            log(f"{name}: raw restore: {os.path.basename(fetch[0])} | mbstream -x, then prepare")
            raw = bench.raw_restore(fetch, fetch_env)
            raw["bytes"] = stream_bytes
            bench.rows.append((name, "raw fetch+mbstream+prep", raw))
            bench.measure_restores(name, results, raw)
        print()
        bench.report()
        print()
        failed = False
        for text, ok in bench.checks:
            print(f"{'met   ' if ok else 'MISSED'} {text}")
            failed = failed or not ok
        print(json.dumps({"rows": [[s, w, r] for s, w, r in bench.rows]}), file=sys.stderr)
        return 1 if failed else 0
    except (RuntimeError, TimeoutError, subprocess.SubprocessError, OSError) as e:
        log(f"failed: {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 2
    finally:
        for world in locals().get("worlds", []):
            world.stop()
        if cluster:
            for n in cluster.nodes:
                if n.proc:
                    try:
                        os.kill(n.proc.pid, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
            cluster.stop()
        if consul:
            consul.stop()
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
