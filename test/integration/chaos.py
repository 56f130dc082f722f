#!/usr/bin/env python3
"""Chaos test: a three-node cluster under writes, its primary or its Consul faulted round after round.

Starts a local cluster with the harness (its own base directory, its own
Consul, nodes on 127.0.0.N) with SEMI_SYNC=on, ERRANT_POLICY=reclone and the
shipped timing defaults, every node under a restart policy like Docker's
`restart: always`. While it runs:

  - a writer inserts rows with increasing ids into appdb.chaos on the node
    that holds PRIMARY_KEY, over TCP as the application user, one row per
    autocommit statement. It keeps its connection until an error, and its
    read timeout is long (60 s): a write sent to a frozen primary hangs until
    the node resumes. Only an OK from the server counts as acknowledged.
  - probers read `SELECT @@read_only` on every node and the PRIMARY_KEY
    holder in Consul every 100 ms.

Each round applies one fault, one of FAULTS (below, one entry per kind): to
the current primary, `kill` (SIGKILL of the whole node, then started again
once another node is the writable primary), `term` (SIGTERM to ContainerPilot,
a clean stop; started again likewise), `stop` (SIGSTOP of the whole node for
longer than the health TTL plus the lock-delay, then SIGCONT; not restarted by
the test), `errant` (a write on a replica, which the cluster never gets, then
a kill), `lag` (a replica's SQL thread held back by a table lock while writes
go on, then a kill; the lock goes a few seconds later) or `cutoff` (its relay
to Consul black-holes until another node is the writable primary); to Consul,
`consul-reset` (killed and started again without its state), `noleader-short`
and `noleader-long` (no leader for less, then for more, than the primary's
lease; a real dev agent is paused instead). The round then waits until the
cluster has converged: every node passing, exactly one writable node and it
holds the lock, the old primary back in the role its kind expects, the same
GTID position everywhere, the same table checksum everywhere, and every
acknowledged row on the primary.

The table at the end has one row per kind of fault. Exit status: 0 every
round converged with no writable overlap (whatever the kind, freezes
included), no write acknowledged without the lock, no acknowledged row lost,
no divergent node, every old primary back in its expected role, and no
failover or fence where the kind forbids one; 1 otherwise; 2 the run itself
failed (the cluster did not start). Timings are reported against their
targets, never enforced. Everything is stopped and deleted at the end, also
on Ctrl-C.
"""

import argparse
import bisect
import json
import math
import os
import random
import re
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Consul, make_base_dir, wait_for  # noqa: E402

pymysql = harness.import_pymysql()


def shipped_default(relative_path, pattern, fallback):
    """A default from the shipped sources, so that the freeze follows them."""
    try:
        with open(os.path.join(harness.REPO, relative_path)) as f:
            match = re.search(pattern, f.read())
    except OSError:
        match = None
    return int(match.group(1)) if match else fallback


# What a `stop` round must outlast: the TTL of the health checks
# (containerpilot/containerpilot.json5) and the lock-delay of the primary's
# session (lib/core/config.h), both at their shipped defaults.
HEALTH_TTL = shipped_default("containerpilot/containerpilot.json5",
                             r'\.HEALTH_TTL \| default "(\d+)"', 7)
SESSION_LOCK_DELAY = shipped_default("lib/core/config.h", r"lock_delay\{(\d+)\}", 1)
FREEZE_SECONDS = HEALTH_TTL + SESSION_LOCK_DELAY + 10

# The shipped timing, except a snapshot check every 10 s (a node that reclones
# needs a snapshot) and ContainerPilot's stop timeout of 10 s (as the tests).
TIMING = {"SNAPSHOT_INTERVAL": "10s", "STOP_TIMEOUT": "10"}
CLUSTER_ENV = {"SEMI_SYNC": "on", "ERRANT_POLICY": "reclone"}

# Consul without a leader: the primary's lease covers an outage of up to
# L - max(I, P) whatever its phase, L being SESSION_TTL + D - max(I, P) - H
# after the last proof while the agent takes heartbeats (the double without a
# leader: 11 - 2.5 - 3 = 5.5 s, so 3 s), HEALTH_TTL + D - max(I, P) - H when
# nothing answers (a paused real agent: 2.5 s, so none in the worst phase);
# I = 2 s, P = 2.5 s, H = 3 s (lib/core/config.h, cluster/lease.h). Passes
# come every I = 2 s when Consul answers fast or times out, which adds 1 s to
# the first and one pass's worth to the second: short outages stay inside,
# long ones outlast the lease by far.
SESSION_TTL = shipped_default("lib/core/config.h", r"session_ttl\{(\d+)\}", 10)
SHORT_OUTAGE = {True: 3.0, False: 1.5}  # by "is the Consul double"
LONG_OUTAGE = SESSION_TTL + SESSION_LOCK_DELAY + 4.0

NODES = 3
PROBE_INTERVAL = 0.1   # seconds between two probes of one node, or of Consul
PROBE_TIMEOUT = 0.3    # a node that does not answer within this is "unknown"
MAX_SPAN = 0.5         # two read_only=0 answers further apart prove nothing between them
WRITER_TIMEOUT = 60    # the writer's read timeout: long on purpose
WRITE_GAP = 0.01       # the writer's sleep between two inserts
ROUND_TIMEOUT = 180    # for each wait of a round (new primary, convergence)
START_TIMEOUT = 300    # for the cluster to assemble at the start

# Printed against the results, never enforced (seconds to a writable primary).
KILL_P50_TARGET, KILL_P95_TARGET, TERM_MAX_TARGET = 10.0, 15.0, 3.0

WRITABLE, READ_ONLY, UNKNOWN = "writable", "read-only", "unknown"
MISSING = "missing"  # a Consul sample: PRIMARY_KEY does not exist (Consul lost its state)

CREATE_TABLE = ("CREATE TABLE IF NOT EXISTS chaos "
                "(id BIGINT PRIMARY KEY, node VARCHAR(64), t DOUBLE)")
INSERT = "INSERT INTO chaos (id, node, t) VALUES (%s, %s, %s)"


class RoundFailed(Exception):
    """A round did not reach the state it waited for."""


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop like on Ctrl-C."""


@dataclass
class Sample:
    """One probe: when the question was sent (on a node: after connecting) and
    answered, and the answer."""
    t_start: float
    t_end: float
    value: str  # a node: WRITABLE, READ_ONLY or UNKNOWN; Consul: holder, None, MISSING or UNKNOWN


@dataclass
class Write:
    id: int
    node: str  # the node the writer sent it to
    t_send: float
    t_ack: float  # when the answer (OK or error) came
    acked: bool


@dataclass(frozen=True)
class Fault:
    """One kind of round: what it does to the cluster (a Chaos method taking the
    primary and the Round), a line for --help, and what each round of it must
    show besides the checks every round passes (no writable overlap, no write
    acknowledged without the lock, no row lost, no divergent node)."""
    apply: object
    help: str
    failover: bool = True  # True: another node must take over; False: none may; None: either
    fence: bool = None  # False: the old primary must never answer read_only=1
    consul: bool = False  # acts on Consul itself: needs an agent this run started
    relays: bool = False  # needs every node's own relay to Consul


# The errant write's id: far from the writer's, one per round.
ERRANT_ID_BASE = 10**12
LAG_SECONDS = 4        # a lag round: writes the replica falls behind on before the kill
LAG_AFTER_KILL = 3     # ...and how long after the kill it stays held back


@dataclass
class Round:
    number: int
    kind: str
    old: str  # the primary the fault hit
    t_fault: float = 0.0
    t_thaw: float = None  # stop rounds: when the node was resumed
    t_end: float = None  # converged, or failed
    window_end: float = None  # the next round's fault, or the end of the run
    error: str = None
    new_primary: str = None
    failover: bool = False
    writable_after: float = None  # seconds from the fault to another writable node
    fenced_ms: float = None  # stop rounds: from SIGCONT to the old primary fenced
    rejoined: bool = False
    divergent: int = 0
    lost: int = 0
    overlaps: int = 0
    longest_overlap_ms: int = 0
    overlap_evidence: list = None
    acks_without_lock: int = 0
    t_converged: float = None
    outage: float = None  # longest time without an acknowledged write, fault to convergence
    old_fenced: bool = False  # the old primary answered read_only=1 after the fault


# ---------------------------------------------------------------- load and probes

class Ticker(threading.Thread):
    """Calls probe() every PROBE_INTERVAL and keeps the answers as Samples."""

    def __init__(self, name):
        super().__init__(name=name, daemon=True)
        self.samples = []
        self._done = threading.Event()

    def run(self):
        next_tick = time.monotonic()
        while not self._done.is_set():
            t_start, value = self.probe()
            self.samples.append(Sample(t_start, time.monotonic(), value))
            next_tick = max(next_tick + PROBE_INTERVAL, time.monotonic())
            self._done.wait(next_tick - time.monotonic())

    def probe(self):
        """(when the question was sent, the answer)"""
        raise NotImplementedError

    def stop(self):
        self._done.set()
        self.join(timeout=5)


class NodeProber(Ticker):
    """Asks one node for @@read_only over TCP; no answer in time is UNKNOWN."""

    def __init__(self, node):
        super().__init__(f"probe-{node.name}")
        self.node = node
        self.conn = None

    def probe(self):
        t_sent = time.monotonic()
        try:
            if self.conn is None:
                self.conn = self.node.connect(database=None, timeout=PROBE_TIMEOUT)
            with self.conn.cursor() as cur:
                # A connection made while the node was frozen completes after
                # it resumes: the answer is about now, not about then.
                t_sent = time.monotonic()
                cur.execute("SELECT @@read_only")
                return t_sent, READ_ONLY if int(cur.fetchone()[0]) else WRITABLE
        except (pymysql.MySQLError, OSError):
            close_quietly(self.conn)
            self.conn = None
            return t_sent, UNKNOWN


class HolderProber(Ticker):
    """Reads who holds PRIMARY_KEY in Consul: a node name, None when nobody does,
    MISSING when the key itself is gone."""

    def __init__(self, cluster):
        super().__init__("probe-consul")
        self.cluster = cluster

    def probe(self):
        t_sent = time.monotonic()
        try:
            value, session = self.cluster.consul.kv(f"{self.cluster.service}-primary")
        except Exception:  # Consul unreachable or answering nonsense
            return t_sent, UNKNOWN
        return t_sent, MISSING if value is None else (value if session else None)


class Writer(threading.Thread):
    """Inserts rows with increasing ids on the primary, one autocommit statement each."""

    def __init__(self, cluster):
        super().__init__(name="writer", daemon=True)
        self.cluster = cluster
        self.writes = []
        self.conn = None
        self.node = None
        self.next_id = 1
        self.table_created = False
        self._cond = threading.Condition()
        self._want_pause = False
        self._busy = False
        self._done = False

    def run(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._done or not self._want_pause)
                if self._done:
                    return
                self._busy = True
            try:
                self.write_one()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            time.sleep(WRITE_GAP)

    def write_one(self):
        if self.conn is None and not self.connect():
            time.sleep(0.1)
            return
        row_id = self.next_id
        self.next_id += 1
        t_send = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                cur.execute(INSERT, (row_id, self.node.name, time.time()))
            acked = True
        except (pymysql.MySQLError, OSError):
            acked = False
        self.writes.append(Write(row_id, self.node.name, t_send, time.monotonic(), acked))
        if not acked:
            close_quietly(self.conn)
            self.conn = None

    def connect(self):
        """Connects to the node Consul names as the primary; False if that fails."""
        try:
            node = self.cluster.primary()
        except Exception:  # Consul unreachable
            return False
        if node is None:
            return False
        conn = None
        try:
            conn = node.connect(timeout=2, read_timeout=WRITER_TIMEOUT)
            if not self.table_created:
                with conn.cursor() as cur:
                    cur.execute(CREATE_TABLE)
                self.table_created = True
        except (pymysql.MySQLError, OSError):
            close_quietly(conn)
            return False
        self.conn, self.node = conn, node
        return True

    def pause(self, timeout=WRITER_TIMEOUT + 30):
        """Returns once no insert is in flight and none will start until resume()."""
        with self._cond:
            self._want_pause = True
            if not self._cond.wait_for(lambda: not self._busy, timeout):
                raise RoundFailed(f"the writer did not pause within {timeout}s")

    def resume(self):
        with self._cond:
            self._want_pause = False
            self._cond.notify_all()

    def stop(self):
        with self._cond:
            self._done = True
            self._cond.notify_all()
        self.join(timeout=2)  # an insert may hang on a frozen node; it is a daemon

    def acked_ids(self):
        return {w.id for w in self.writes if w.acked}


def close_quietly(conn):
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # the connection is broken already
        pass


# ---------------------------------------------------------------- the cluster under test

class Chaos:
    """The cluster, its load and probes, and the faults applied to it."""

    def __init__(self, base, first_ip, out, seed=0, kinds=()):
        self.out = out
        self.seed = seed
        self.consul = Consul(base)
        self.cluster = None
        self.writer = None
        self.probers = {}
        self.holder = None
        self.lost_ids = set()
        self.lost_at_last_check = None
        self.t_begin = time.monotonic()
        self.consul.start()
        if self.consul.faults and any(FAULTS[k].consul for k in kinds):
            self.consul.stop()
            raise RuntimeError(f"cannot inject Consul faults: {self.consul.faults}")
        self.short_outage = SHORT_OUTAGE[self.consul.is_double()]
        self.cluster = Cluster(self.consul, base, "mysql", first_index=first_ip,
                               extra_env=dict(CLUSTER_ENV),
                               relays=any(FAULTS[k].relays for k in kinds))
        self.cluster.timing = dict(TIMING)

    def say(self, text):
        print(text, file=self.out, flush=True)

    @property
    def nodes(self):
        return self.cluster.nodes

    def node(self, name):
        return next((n for n in self.nodes if n.name == name), None)

    def start(self):
        """Starts the nodes, waits for a primary and a snapshot, then the load."""
        self.say(f"starting {NODES} nodes: {self.consul.addr}, base dir "
                 f"{self.cluster.base_dir}")
        for node in self.cluster.start(NODES):
            # Every stop round usually reclones the frozen node: one restart
            # each. Back-to-back stop rounds on the same node must not exhaust
            # the budget (Docker's restart: always has none).
            node.supervise(max_restarts=30, window=600.0)
        self.cluster.wait_healthy(self.nodes, timeout=START_TIMEOUT)
        primary = wait_for("a writable primary", self.writable_holder, timeout=ROUND_TIMEOUT)
        self.say(f"primary {primary.name}; waiting for the first snapshot")
        wait_for("the first snapshot", lambda: self.consul.kv("mysql-last-backup")[0],
                 timeout=ROUND_TIMEOUT)
        self.holder = HolderProber(self.cluster)
        self.holder.start()
        for node in self.nodes:
            self.probers[node.name] = NodeProber(node)
            self.probers[node.name].start()
        self.writer = Writer(self.cluster)
        self.writer.start()
        wait_for("the writer's first acknowledged row", lambda: self.writer.acked_ids(),
                 timeout=ROUND_TIMEOUT)
        deadline = time.monotonic() + ROUND_TIMEOUT
        primary = self.wait_converged(None, deadline)
        divergent, lost, gtid_problem = self.check_data(primary, deadline)
        if divergent or lost or gtid_problem:
            raise RoundFailed(f"the cluster did not start consistent: {divergent} divergent "
                              f"nodes, {lost} rows lost, {gtid_problem or 'GTIDs equal'}")
        self.say(f"cluster ready: primary {self.cluster.primary_name()}, "
                 f"writer running, probes every {PROBE_INTERVAL * 1000:.0f} ms")

    def writable_holder(self):
        """The lock holder if it answers read_only=0, else None."""
        primary = self.cluster.primary()
        return primary if primary and not primary.read_only() else None

    # ------------------------------------------------------------ one round

    def run_round(self, number, kind):
        r = Round(number, kind, old=None, t_fault=time.monotonic())
        try:
            old = wait_for("a primary", self.cluster.primary, timeout=ROUND_TIMEOUT)
            r.old = old.name
            self.say(f"round {number}: {kind} {old.name}")
            FAULTS[kind].apply(self, old, r)
            deadline = time.monotonic() + ROUND_TIMEOUT
            replaced = FAULTS[kind].failover
            primary = self.wait_converged(old, deadline, replaced)
            r.t_converged = time.monotonic()
            r.new_primary = primary.name
            r.rejoined = back_as_expected(replaced, primary is old, old.state("role"))
            r.divergent, r.lost, gtid_problem = self.check_data(primary, deadline)
            if gtid_problem:
                raise RoundFailed(gtid_problem)
        except (RoundFailed, TimeoutError, RuntimeError, OSError) as e:
            r.error = f"{e}\n{self.cluster.dump_logs(tail=40)}"
        r.t_end = time.monotonic()
        r.writable_after = self.writable_after(r)
        self.say(self.round_line(r))
        return r

    def fault_kill(self, old, r):
        r.t_fault = time.monotonic()
        old.crash()
        self.wait_new_primary(old)
        old.start()

    def fault_term(self, old, r):
        r.t_fault = time.monotonic()
        old.stop(signal.SIGTERM)
        self.wait_new_primary(old)
        old.start()

    def fault_stop(self, old, r):
        r.t_fault = time.monotonic()
        old.freeze()
        time.sleep(FREEZE_SECONDS)
        old.thaw()
        r.t_thaw = time.monotonic()

    def a_replica(self, old, r):
        """A replica chosen by the run's seed and the round's number."""
        replicas = sorted((n for n in self.nodes if n is not old), key=lambda n: n.name)
        return random.Random(f"{self.seed}-{r.number}").choice(replicas)

    def fault_errant(self, old, r):
        replica = self.a_replica(old, r)
        # As root, whom read_only does not stop: a write only this replica has.
        replica.sql(f"INSERT INTO chaos (id, node, t) VALUES ({ERRANT_ID_BASE + r.number}, "
                    f"'errant', 0)", "appdb")
        self.say(f"  errant write on {replica.name}: "
                 f"{replica.sql('SELECT @@gtid_current_pos')[0][0]}")
        self.fault_kill(old, r)

    def fault_lag(self, old, r):
        replica = self.a_replica(old, r)
        conn = replica.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("LOCK TABLES chaos READ")  # its SQL thread waits on it
            self.say(f"  {replica.name} held back for {LAG_SECONDS} s, then "
                     f"{LAG_AFTER_KILL} s after the kill")
            time.sleep(LAG_SECONDS)
            release = threading.Timer(LAG_AFTER_KILL, close_quietly, args=(conn,))
            release.start()
            try:
                self.fault_kill(old, r)
            finally:
                release.join()
        finally:
            close_quietly(conn)

    def fault_cutoff(self, old, r):
        r.t_fault = time.monotonic()
        old.relay.cut()
        try:
            self.wait_new_primary(old)
        finally:
            old.relay.heal()

    def fault_consul_reset(self, old, r):
        r.t_fault = time.monotonic()
        self.consul.restart_empty()

    def fault_noleader_short(self, old, r):
        self.without_leader(r, self.short_outage)

    def fault_noleader_long(self, old, r):
        self.without_leader(r, LONG_OUTAGE)

    def without_leader(self, r, seconds):
        r.t_fault = time.monotonic()
        self.consul.lose_leader()
        try:
            time.sleep(seconds)
        finally:
            self.consul.elect_leader()

    def wait_new_primary(self, old):
        def new_primary():
            primary = self.writable_holder()
            return primary if primary and primary is not old else None
        wait_for(f"a writable primary other than {old.name}", new_primary,
                 timeout=ROUND_TIMEOUT, interval=0.1)

    def wait_converged(self, old, deadline, failover=True):
        """Waits until convergence() finds the cluster settled; the primary."""
        why = "not checked yet"
        while time.monotonic() < deadline:
            why, primary = self.convergence(old, failover)
            if primary:
                return primary
            time.sleep(0.5)
        raise RoundFailed(f"not converged within {ROUND_TIMEOUT}s: {why}")

    def convergence(self, old, failover=True):
        """("", primary) once the cluster has settled, else (what is missing, None).
        The old primary must be back as Fault.failover expects (back_as_expected)."""
        for node in self.nodes:
            if node.supervisor_gave_up:
                raise RoundFailed(node.supervisor_gave_up)
        missing = {n.name for n in self.nodes} - self.cluster.healthy()
        if missing:
            return f"not passing in Consul: {', '.join(sorted(missing))}", None
        answers = {}
        for node in self.nodes:
            try:
                answers[node.name] = READ_ONLY if node.read_only() else WRITABLE
            except (RuntimeError, OSError) as e:
                return f"{node.name} does not answer: {e}", None
        writable = [name for name, value in answers.items() if value == WRITABLE]
        if len(writable) != 1:
            return f"writable nodes: {writable or 'none'}", None
        holder = self.cluster.primary_name()
        if holder != writable[0]:
            return f"{writable[0]} is writable but the lock holder is {holder}", None
        if old and not back_as_expected(failover, holder == old.name, old.state("role")):
            return (f"{old.name}'s role is {old.state('role')!r} and {holder} holds the lock: "
                    f"it did not {EXPECTED_ROLE[failover]} yet"), None
        return "", self.node(holder)

    def check_data(self, primary, deadline):
        """With the writer paused: GTIDs equal, then checksums and acknowledged rows.

        Returns (divergent nodes, acknowledged rows newly found missing, and
        why the GTID positions did not become equal, or None)."""
        gtid_problem = None
        try:
            self.writer.pause()
            try:
                wait_for("the same GTID position on every node", self.same_gtid,
                         timeout=max(1, deadline - time.monotonic()), interval=0.2)
            except TimeoutError as e:
                gtid_problem = f"{e}: {self.gtid_positions()}"
            checksums = {n.name: n.sql("CHECKSUM TABLE appdb.chaos")[0][1] for n in self.nodes}
            present = {int(row[0]) for row in primary.sql("SELECT id FROM appdb.chaos")}
            lost = self.writer.acked_ids() - present
        finally:
            self.writer.resume()
        divergent = [name for name, sum_ in checksums.items() if sum_ != checksums[primary.name]]
        if divergent:
            self.say(f"  divergent from {primary.name}: {', '.join(divergent)} "
                     f"(checksums {checksums})")
        if lost:
            self.say(f"  acknowledged rows missing on {primary.name}: {len(lost)}, "
                     f"e.g. {sorted(lost)[:10]}")
        new = lost - self.lost_ids
        self.lost_ids |= lost
        self.lost_at_last_check = len(lost)
        return len(divergent), len(new), gtid_problem

    def gtid_positions(self):
        return {n.name: n.sql("SELECT @@gtid_current_pos")[0][0] for n in self.nodes}

    def same_gtid(self):
        return len(set(self.gtid_positions().values())) == 1

    # ------------------------------------------------------------ measures

    def writable_after(self, r):
        """Seconds from the fault to the first sample of another node answering read_only=0."""
        if r.old is None:
            return None
        if not FAULTS[r.kind].failover:
            return writable_again(self.probers, r.old, r.t_fault,
                                  r.t_converged or r.t_end or time.monotonic(),
                                  r.window_end or time.monotonic())
        times = [s.t_end for name, p in self.probers.items() if name != r.old
                 for s in list(p.samples) if s.t_start >= r.t_fault and s.value == WRITABLE]
        return min(times) - r.t_fault if times else None

    def measure(self, rounds, t_stop):
        """Fills in what the samples tell about each round."""
        for i, r in enumerate(rounds):
            r.window_end = rounds[i + 1].t_fault if i + 1 < len(rounds) else t_stop
            r.failover = r.old is not None and any(
                s.value not in (None, UNKNOWN, MISSING, r.old) for s in self.holder.samples
                if r.t_fault <= s.t_start <= r.window_end)
            r.writable_after = self.writable_after(r)
            if r.t_thaw is not None and r.t_end is not None:
                r.fenced_ms = fenced_after_resume(self.probers[r.old].samples, r.t_thaw,
                                                  r.t_end)
            r.overlaps, r.longest_overlap_ms, r.overlap_evidence = overlaps(
                self.probers, self.t_begin, r.t_fault, r.window_end)
            r.acks_without_lock = len(acks_without_lock(self.writer.writes, self.holder.samples,
                                                        r.t_fault, r.window_end))
            if r.t_converged is not None:
                r.outage = write_outage(self.writer.writes, r.t_fault, r.t_converged)
                r.old_fenced = r.old in self.probers and any(
                    s.value == READ_ONLY for s in self.probers[r.old].samples
                    if r.t_fault <= s.t_start <= r.t_converged)

    def save_samples(self, path):
        """Every write and probe sample as JSON, for a closer look at a kept run."""
        data = {
            "t_begin": self.t_begin,
            "writes": [vars(w) for w in self.writer.writes] if self.writer else [],
            "holder": [vars(s) for s in self.holder.samples] if self.holder else [],
            "nodes": {name: [vars(s) for s in p.samples] for name, p in self.probers.items()},
        }
        with open(path, "w") as f:
            json.dump(data, f)

    def round_line(self, r):
        parts = [f"round {r.number} {r.kind} {r.old}:"]
        if r.writable_after is not None:
            parts.append(f"writable primary after {r.writable_after:.1f} s,")
        if r.error:
            parts.append("FAILED: " + r.error)
        else:
            parts.append(f"primary {r.new_primary}, converged after "
                         f"{r.t_end - r.t_fault:.0f} s, divergent {r.divergent}, lost {r.lost}")
        return " ".join(parts)

    def stop_load(self):
        for ticker in [self.writer, self.holder, *self.probers.values()]:
            if ticker:
                ticker.stop()

    def close(self):
        """Stops the load, every node (also a frozen one) and Consul."""
        self.stop_load()
        if self.cluster:
            for node in self.nodes:
                node.unsupervise()
                node.crash()
            self.cluster.stop()
        self.consul.stop()


# Every kind of round, one entry each; its name is what --kinds takes.
FAULTS = {
    "kill": Fault(Chaos.fault_kill, "SIGKILL the primary's node, start it again later"),
    "term": Fault(Chaos.fault_term, "SIGTERM the primary's ContainerPilot (a clean stop)"),
    "stop": Fault(Chaos.fault_stop, "freeze the primary's node (SIGSTOP) longer than "
                  "HEALTH_TTL + lock-delay, then thaw it"),
    "errant": Fault(Chaos.fault_errant, "write on a replica only, then kill the primary"),
    "lag": Fault(Chaos.fault_lag, "hold a replica's SQL thread back, then kill the primary"),
    "cutoff": Fault(Chaos.fault_cutoff, "cut the primary alone off from Consul until another "
                    "node is writable", relays=True),
    "consul-reset": Fault(Chaos.fault_consul_reset, "kill Consul and start it again without "
                          "its state", failover=False, consul=True),
    "noleader-short": Fault(Chaos.fault_noleader_short, "Consul without a leader for less "
                            "than the primary's lease", failover=False, fence=False, consul=True),
    "noleader-long": Fault(Chaos.fault_noleader_long, "Consul without a leader for longer "
                           "than the primary's lease", failover=None, consul=True),
}


# What Report.problems() says an old primary did not do, by Fault.failover.
EXPECTED_ROLE = {True: "rejoin as a replica", False: "stay the primary",
                 None: "come back as the primary or a replica"}


def back_as_expected(failover, old_is_primary, old_role):
    """Is the old primary back in the role its kind expects (Fault.failover)?"""
    if failover:
        return not old_is_primary and old_role == "replica"
    if failover is False:
        return old_is_primary
    return old_is_primary or old_role == "replica"


def writable_again(probers, old, t_fault, t_end, t_last=None):
    """Seconds from the fault to a writable primary for kinds the old primary may
    survive: 0 when the old primary never answered anything but read_only=0 up
    to t_end (convergence); else to the first read_only=0 answer of any node
    after its first other answer, up to t_last (default t_end): the cluster may
    have converged between two probes."""
    samples = [s for s in list(probers[old].samples) if t_fault <= s.t_start <= t_end]
    lost = next((s.t_end for s in samples if s.value != WRITABLE), None)
    if lost is None:
        return 0.0
    back = [s.t_end for p in probers.values() for s in list(p.samples)
            if s.t_start >= lost and s.t_end <= (t_last or t_end) and s.value == WRITABLE]
    return min(back) - t_fault if back else None


def write_outage(writes, t_from, t_to):
    """The longest time in [t_from, t_to] without an acknowledged write."""
    acks = sorted(w.t_ack for w in writes if w.acked and t_from <= w.t_ack <= t_to)
    edges = [t_from, *acks, t_to]
    return max(b - a for a, b in zip(edges, edges[1:]))


def fenced_after_resume(samples, t_thaw, t_end):
    """ms from SIGCONT to the node's first read_only=1 answer after its last
    read_only=0 answer (or after SIGCONT, if it gave none); None if it gave none."""
    after = [s for s in samples if t_thaw <= s.t_end <= t_end]
    writable = [i for i, s in enumerate(after) if s.value == WRITABLE]
    following = [s for s in (after[writable[-1] + 1:] if writable else after)
                 if s.value == READ_ONLY]
    return (following[0].t_end - t_thaw) * 1000 if following else None


def overlaps(probers, t_begin, t_from, t_to):
    """Two nodes writable at one instant, in [t_from, t_to): (observations,
    longest run in ms, a few lines of evidence).

    Each node has its own prober, so the answers of two nodes are never
    simultaneous, and two read_only=0 answers in one probe tick do not prove
    an overlap: a clean hand-over fits between them (the old primary's last
    read_only=0 just before its fence, the new primary's first just after its
    promotion, tens of ms later). What proves one: node A answered read_only=0
    twice in a row, at most MAX_SPAN apart, and node B's read_only=0 was asked
    after A's first answer came back and answered before A's second was asked.
    A was writable at both moments, so (short of flipping twice within one
    tick) also at B's. Each such answer of B is one observation; the longest
    run is in consecutive probe ticks."""
    series = {name: [s for s in list(p.samples) if t_from <= s.t_end < t_to]
              for name, p in probers.items()}
    spans = {}  # node -> [(known writable from, until)], in time order
    for name, samples in series.items():
        spans[name] = [(a.t_end, b.t_start) for a, b in zip(samples, samples[1:])
                       if a.value == WRITABLE and b.value == WRITABLE
                       and b.t_start - a.t_end <= MAX_SPAN]
    ticks, evidence = set(), []
    for name, samples in series.items():
        for other, other_spans in spans.items():
            if other == name or not other_spans:
                continue
            starts = [lo for lo, _ in other_spans]
            for s in samples:
                if s.value != WRITABLE:
                    continue
                i = bisect.bisect_right(starts, s.t_start) - 1
                if i >= 0 and s.t_end <= other_spans[i][1]:
                    ticks.add(int((s.t_end - t_begin) / PROBE_INTERVAL))
                    if len(evidence) < 3:
                        lo, hi = other_spans[i]
                        evidence.append(
                            f"{name} read_only=0 at +{s.t_start - t_begin:.3f}.."
                            f"{s.t_end - t_begin:.3f} s while {other} answered read_only=0 "
                            f"at +{lo - t_begin:.3f} and +{hi - t_begin:.3f} s")
    longest = run = 0
    previous = None
    for tick in sorted(ticks):
        run = run + 1 if previous is not None and tick == previous + 1 else 1
        longest, previous = max(longest, run), tick
    return len(ticks), round(longest * PROBE_INTERVAL * 1000), evidence


def acks_without_lock(writes, holder_samples, t_from=None, t_to=None):
    """Acknowledged writes whose node held PRIMARY_KEY in no Consul sample from
    the last one answered before the write was sent to the first one asked
    after it was acknowledged.

    The commit happens somewhere between the two. One made while the node held
    the lock can still reach its client late: a primary frozen after a replica
    acknowledged a commit, but before it answered OK, answers on resuming, when
    another node holds the lock (late_acks). Such a write is on that replica,
    so on the new primary; one committed without the lock is on no other node,
    and also counts as lost."""
    holders = Holders(holder_samples)
    return [w for w in writes if w.acked and (t_from is None or t_from <= w.t_ack < t_to)
            and holders.held(w.node, w.t_send, w.t_ack) is False]


def acks_while_lock_lost(writes, holder_samples):
    """Acknowledged writes that count as acknowledged without the lock only
    because Consul had lost PRIMARY_KEY meanwhile (MISSING samples, which
    acks_without_lock skips): the last primary cannot know before its next
    pass, and nobody else may take the lock for a while (README: Consul
    restarted without its state). Counted apart; overlaps and lost rows still
    catch any harm."""
    strict = Holders(holder_samples, skip=(UNKNOWN,))
    lenient = Holders(holder_samples)
    return [w for w in writes if w.acked and strict.held(w.node, w.t_send, w.t_ack) is False
            and lenient.held(w.node, w.t_send, w.t_ack) is not False]


def late_acks(writes, holder_samples):
    """Acknowledged writes whose node held PRIMARY_KEY when they were sent but
    not when they were acknowledged (see acks_without_lock)."""
    holders = Holders(holder_samples)
    return [w for w in writes if w.acked and holders.held(w.node, w.t_ack, w.t_ack) is False
            and holders.held(w.node, w.t_send, w.t_ack)]


class Holders:
    """The known answers of the Consul prober, searchable by time."""

    def __init__(self, samples, skip=(UNKNOWN, MISSING)):
        self.known = [s for s in samples if s.value not in skip]
        self.ends = [s.t_end for s in self.known]
        self.starts = [s.t_start for s in self.known]

    def held(self, node, t_from, t_to):
        """Did node hold PRIMARY_KEY in any sample from the last one answered
        before t_from to the first one asked after t_to? None: no sample on
        one side."""
        first = bisect.bisect_right(self.ends, t_from) - 1
        last = bisect.bisect_left(self.starts, t_to)
        if first < 0 or last >= len(self.known):
            return None
        return any(s.value == node for s in self.known[first:last + 1])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ---------------------------------------------------------------- the report

@dataclass
class Report:
    seed: int
    planned: int
    rounds: list
    writes_acked: int = 0
    writes_failed: int = 0
    overlaps: int = 0  # over the whole run
    longest_overlap_ms: int = 0
    acks_without_lock: int = 0  # over the whole run
    late_acks: int = 0  # acknowledged after the node lost the lock, committed before
    lost_lock_acks: int = 0  # acknowledged while Consul had lost PRIMARY_KEY
    lost: int = None  # acknowledged ids missing on the final primary
    restarts: dict = None  # node -> supervisor restarts
    gave_up: list = None  # supervisor messages
    error: str = None  # the run itself failed

    def of_kind(self, kind):
        return [r for r in self.rounds if r.kind == kind]

    def problems(self):
        """Every correctness check that failed, one line each."""
        found = []
        if self.error:
            found.append("the run failed: " + self.error.splitlines()[0])
        if len(self.rounds) < self.planned:
            found.append(f"only {len(self.rounds)} of {self.planned} rounds ran")
        for r in self.rounds:
            if r.error:
                found.append(f"round {r.number} ({r.kind}) did not converge: "
                             + r.error.splitlines()[0])
            elif not r.rejoined:
                found.append(f"round {r.number} ({r.kind}): {r.old} did not "
                             + EXPECTED_ROLE[FAULTS[r.kind].failover])
            fault = FAULTS[r.kind]
            if fault.failover is False and r.failover:
                found.append(f"round {r.number} ({r.kind}): a failover, which this fault must "
                             "not cause")
            if fault.fence is False and r.old_fenced:
                found.append(f"round {r.number} ({r.kind}): {r.old} was fenced")
            if r.overlaps:
                found.append(f"round {r.number} ({r.kind}): {r.overlaps} writable overlaps")
                found.extend("    " + line for line in r.overlap_evidence or [])
            if r.divergent:
                found.append(f"round {r.number} ({r.kind}): {r.divergent} divergent nodes")
        if self.acks_without_lock:
            found.append(f"{self.acks_without_lock} writes acknowledged without the lock")
        if self.lost:
            found.append(f"{self.lost} acknowledged rows lost")
        for message in self.gave_up or []:
            found.append(message)
        return found

    HEADER = ["kind", "rounds", "failovers", "p50 s", "p95 s", "max s", "overlaps",
              "longest ms", "acks w/o lock", "lost", "divergent", "rejoins", "fenced max ms",
              "outage max s"]

    def table(self):
        rows = [self.kind_row(kind, self.of_kind(kind))
                for kind in FAULTS if self.of_kind(kind)]
        total = self.kind_row("total", self.rounds)
        # The whole run, not only the rounds' windows; lost: on the final primary.
        total[6:10] = [str(self.overlaps), str(self.longest_overlap_ms),
                       str(self.acks_without_lock), "-" if self.lost is None else str(self.lost)]
        rows.append(total)
        widths = [max(len(row[i]) for row in [self.HEADER, *rows])
                  for i in range(len(self.HEADER))]
        lines = []
        for row in [self.HEADER, *rows]:
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells))
        return "\n".join(lines)

    @staticmethod
    def kind_row(kind, rounds):
        """One row of the table (see HEADER) for these rounds."""
        times = [r.writable_after for r in rounds if r.writable_after is not None]
        fenced = [r.fenced_ms for r in rounds if r.fenced_ms is not None]
        outages = [r.outage for r in rounds if r.outage is not None]
        stats = [f"{percentile(times, p):.1f}" for p in (50, 95, 100)] if times else ["-"] * 3
        return [kind, str(len(rounds)), str(sum(r.failover for r in rounds)), *stats,
                str(sum(r.overlaps for r in rounds)),
                str(max((r.longest_overlap_ms for r in rounds), default=0)),
                str(sum(r.acks_without_lock for r in rounds)),
                str(sum(r.lost for r in rounds)),
                str(sum(r.divergent for r in rounds)),
                f"{sum(r.rejoined for r in rounds)}/{len(rounds)}",
                f"{max(fenced):.0f}" if fenced else "-",
                f"{max(outages):.1f}" if outages else "-"]

    def targets(self):
        """Lines on the timing targets (reported, not enforced)."""
        lines = []
        kill = [r.writable_after for r in self.of_kind("kill") if r.writable_after is not None]
        if kill:
            p50, p95 = percentile(kill, 50), percentile(kill, 95)
            met = p50 <= KILL_P50_TARGET and p95 <= KILL_P95_TARGET
            lines.append(f"kill: writable primary p50 {p50:.1f} s (target <= "
                         f"{KILL_P50_TARGET:.0f}), p95 {p95:.1f} s (target <= "
                         f"{KILL_P95_TARGET:.0f}): {'met' if met else 'MISSED'}")
        term = [r.writable_after for r in self.of_kind("term") if r.writable_after is not None]
        if term:
            worst = max(term)
            lines.append(f"term: writable primary max {worst:.1f} s (target <= "
                         f"{TERM_MAX_TARGET:.0f}): "
                         f"{'met' if worst <= TERM_MAX_TARGET else 'MISSED'}")
        return lines

    def text(self):
        lines = [f"seed {self.seed}; {len(self.rounds)} of {self.planned} rounds; writes "
                 f"{self.writes_acked} acknowledged, {self.writes_failed} failed; "
                 f"{self.late_acks} acknowledged late (sent to the lock holder, answered "
                 f"after it lost the lock: committed before, see acks_without_lock); "
                 f"{self.lost_lock_acks} acknowledged by the last primary while Consul had "
                 f"lost the lock (see acks_while_lock_lost)",
                 "p50/p95/max: seconds from the fault to another node answering read_only=0 "
                 "(kinds that may keep their primary: to any node answering read_only=0 after the "
                 "old primary first answered otherwise, 0 if it never did); fenced: ms from "
                 "SIGCONT to the old primary fenced; outage: the longest time without an "
                 "acknowledged write, from the fault to convergence",
                 "", self.table(), ""]
        lines += self.targets()
        if self.restarts:
            lines.append("restarts by the supervisor: " + ", ".join(
                f"{name} {count}" for name, count in sorted(self.restarts.items())))
        problems = self.problems()
        lines.append("result: " + ("PASS" if not problems else "FAIL"))
        lines += ["  " + p for p in problems]
        return "\n".join(lines)


# ---------------------------------------------------------------- the run

def plan_rounds(rng, count, kinds, sequence):
    """The kinds of fault, in order: the sequence given, else `count` random picks."""
    if sequence:
        return list(sequence)
    return [rng.choice(kinds) for _ in range(count)]


def default_kinds():
    """Every kind, but Consul's own faults only with a Consul the run starts."""
    external = bool(os.environ.get("CONSUL_HTTP_ADDR"))
    return [k for k in FAULTS if not (external and FAULTS[k].consul)]


def run(rounds=9, seed=None, kinds=None, sequence=None, keep=False, first_ip=60,
        settle=5.0, out=sys.stdout):
    """Runs the chaos test; returns its Report (see Report.problems())."""
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    plan = plan_rounds(random.Random(seed), rounds, list(kinds or default_kinds()), sequence)
    print(f"chaos: seed {seed} (replay with --seed {seed}); rounds: {' '.join(plan)}; "
          f"stop rounds freeze {FREEZE_SECONDS} s (HEALTH_TTL {HEALTH_TTL} + "
          f"SESSION_LOCK_DELAY {SESSION_LOCK_DELAY} + 10)", file=out, flush=True)
    report = Report(seed=seed, planned=len(plan), rounds=[])
    base = make_base_dir("manage-chaos-")
    chaos = None
    try:
        try:
            chaos = Chaos(base, first_ip, out, seed, kinds=set(plan))
        except RuntimeError as e:
            report.error = str(e)
            return report
        try:
            chaos.start()
        except (TimeoutError, RoundFailed, RuntimeError) as e:
            report.error = f"{e}\n{chaos.cluster.dump_logs(tail=40)}"
            return report
        for number, kind in enumerate(plan, 1):
            r = chaos.run_round(number, kind)
            report.rounds.append(r)
            if r.error:
                break
            time.sleep(settle)
        t_stop = time.monotonic()
        chaos.stop_load()
        summarize(chaos, report, t_stop)
        return report
    finally:
        if chaos:
            chaos.close()
        if keep:
            if chaos:
                chaos.save_samples(os.path.join(base, "samples.json"))
            print(f"chaos: base directory kept: {base} (samples in samples.json)",
                  file=out, flush=True)
        else:
            shutil.rmtree(base, ignore_errors=True)


def summarize(chaos, report, t_stop):
    chaos.measure(report.rounds, t_stop)
    writes = chaos.writer.writes
    report.writes_acked = sum(w.acked for w in writes)
    report.writes_failed = len(writes) - report.writes_acked
    report.overlaps, report.longest_overlap_ms, _ = overlaps(chaos.probers, chaos.t_begin,
                                                             chaos.t_begin, t_stop)
    report.acks_without_lock = len(acks_without_lock(writes, chaos.holder.samples))
    report.late_acks = len(late_acks(writes, chaos.holder.samples))
    report.lost_lock_acks = len(acks_while_lock_lost(writes, chaos.holder.samples))
    report.lost = chaos.lost_at_last_check
    report.restarts = {n.name: len(n.restarts) for n in chaos.nodes}
    report.gave_up = [n.supervisor_gave_up for n in chaos.nodes if n.supervisor_gave_up]


def parse_kinds(text):
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in FAULTS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(f"use a comma-separated list of {', '.join(FAULTS)}")
    return kinds


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="kinds of fault:\n" + "\n".join(f"  {name:15} {fault.help}"
                                              for name, fault in FAULTS.items()))
    p.add_argument("--kills", type=int, default=9, help="rounds of faults (default 9)")
    p.add_argument("--seed", type=int, help="seed of the random choices (printed; replays a run)")
    p.add_argument("--kinds", type=parse_kinds,
                   help="faults to choose from, e.g. kill,term (default: all of "
                   f"{','.join(FAULTS)}; Consul's own only with a Consul the run starts)")
    p.add_argument("--sequence", type=parse_kinds,
                   help="these faults in this order instead of random ones, e.g. kill,term,stop")
    p.add_argument("--settle", type=float, default=5.0,
                   help="seconds of writes between a round's convergence and the next fault")
    p.add_argument("--first-ip", type=int, default=60,
                   help="nodes listen on <net>.<N+1>..<N+3>, net 127.0.0 or $MANAGE_TEST_NET (default 60)")
    p.add_argument("--keep", action="store_true",
                   help="keep the base directory, with every sample in samples.json")
    a = p.parse_args()
    if a.kills < 1:
        p.error("--kills must be at least 1")
    if not 1 <= a.first_ip <= 250:
        p.error("--first-ip must be within 1..250")
    return a


def interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        report = run(rounds=args.kills, seed=args.seed, kinds=args.kinds,
                     sequence=args.sequence, keep=args.keep, first_ip=args.first_ip,
                     settle=args.settle)
    except (KeyboardInterrupt, Interrupted):
        print("chaos: interrupted; everything stopped", file=sys.stderr)
        return 2
    print()
    if report.error:
        print(f"chaos: the run failed: {report.error}")
        return 2
    print(report.text())
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
