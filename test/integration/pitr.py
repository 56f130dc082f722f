"""Helpers of the point-in-time restore tests: writing rows whose times are
known, waiting for the binlog archive to hold a GTID, running a restore, and
reading a restored datadir with a mariadbd of its own."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import wait_for


def gtid_seqno(gtid):
    return int(gtid.split("-")[2])


def archive_head(consul, service):
    """The last GTID the archive has published (BINLOG_ARCHIVE_KEY/head), or None."""
    value, _ = consul.kv(f"{service}-binlog-archive/head")
    return json.loads(value)["gtid"] if value else None


def wait_archived(consul, service, gtid, timeout=60):
    """Waits until the archive's head is at or past `gtid` (same domain, one history)."""
    wait_for(f"the archive to hold {gtid}", lambda: archive_head(consul, service) and
             gtid_seqno(archive_head(consul, service)) >= gtid_seqno(gtid), timeout=timeout)


def write_rows(node, table, ids, gap=0.35, database="appdb"):
    """Inserts one row per id, each stamped with the server's NOW() (the time its
    binlog events carry), `gap` seconds apart. Returns {id: unix second}."""
    conn = node.connect(database)
    times = {}
    try:
        with conn.cursor() as cur:
            for i in ids:
                cur.execute(f"INSERT INTO {table} (id, ts) VALUES (%s, NOW())", (i,))
                cur.execute(f"SELECT UNIX_TIMESTAMP(ts) FROM {table} WHERE id = %s", (i,))
                times[i] = int(cur.fetchone()[0])
                time.sleep(gap)
    finally:
        conn.close()
    return times


def last_gtid(node, sql, database="appdb"):
    """Runs `sql` and returns (its GTID, the Unix second it began in: the time
    its binlog events carry), from one session."""
    conn = node.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT UNIX_TIMESTAMP()")
            began = int(cur.fetchone()[0])
            cur.execute(sql)
            cur.execute("SELECT @@last_gtid")
            return cur.fetchone()[0], began
    finally:
        conn.close()


def drop_at_a_fresh_second(node, sql, not_before):
    """Runs `sql` early in a second later than `not_before` (a Unix second), so
    that its binlog time is known exactly. Returns (GTID, its second)."""
    while True:
        now = time.time()
        second = int(now)
        if second > not_before and now - second < 0.3:
            return last_gtid(node, sql)
        time.sleep(0.02 if second > not_before else max(0.02, second + 1 - now))


def archiver_pid(node):
    """The pid of the node's `manage archive` process."""
    for pid in node.processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith(b"manage") and argv[1] == b"archive":
            return pid
    raise RuntimeError(f"no archiver running on {node.name}")


def crash_archiver(node):
    """SIGKILLs the node's `manage archive` process; returns its pid."""
    pid = archiver_pid(node)
    os.kill(pid, signal.SIGKILL)
    return pid


@contextlib.contextmanager
def restored_server(datadir, user="mysql"):
    """A mariadbd on a restored datadir (socket only); yields a function that
    runs SQL as root and returns rows."""
    run = tempfile.mkdtemp(prefix="manage-inspect-")
    os.chmod(run, 0o777)
    sock = os.path.join(run, "s.sock")
    proc = subprocess.Popen(
        [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults",
         f"--datadir={datadir}", f"--socket={sock}", "--skip-networking",
         f"--pid-file={run}/m.pid", f"--log-error={run}/err.log", f"--tmpdir={run}",
         "--innodb-buffer-pool-size=32M", "--skip-slave-start", f"--user={user}",
         "--log-bin=mysql-bin", "--server-id=999"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sql(query, database=None):
        cmd = ["mariadb", "--no-defaults", "-uroot", "-S", sock, "-N", "-B", "-e", query]
        if database:
            cmd.insert(-2, database)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"{query!r}: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines()]

    try:
        wait_for("the restored server", lambda: sql("SELECT 1"), timeout=120)
        yield sql
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(run, ignore_errors=True)


def table_ids(sql, table, database="appdb"):
    """The ids in `table`, or None when the table does not exist."""
    exists = sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema="
                 f"'{database}' AND table_name='{table}'")[0][0]
    if exists == "0":
        return None
    return sorted(int(r[0]) for r in sql(f"SELECT id FROM {database}.{table}"))


def keep_only_the_first_snapshot(names, remove):
    """Removes every snapshot but the oldest (and its manifest) from a store
    whose top-level object names are `names`, with `remove(name)`: a restore
    must then replay the archive from that snapshot on, across whatever
    happened since (a promoted primary snapshots its history at once)."""
    ids = sorted(n[:-len(".json")] for n in names if n.endswith(".json"))
    for doomed in ids[1:]:
        remove(doomed)
        remove(doomed + ".json")
    return ids[0]


def restored_transactions(log):
    """The transactions the last point-in-time restore in `log` replayed."""
    lines = [line for line in log.splitlines() if "point-in-time restore done" in line]
    assert lines, "no point-in-time restore in the log"
    return int(lines[-1].split(" transactions=")[1].split()[0])


def backup_list(node):
    out = node.manage("backup", "list", "--json", timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
