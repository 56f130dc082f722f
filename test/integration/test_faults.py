"""Integration tests: faults of Consul and ContainerPilot themselves.

A failed pre_start stops ContainerPilot (the real one keeps running unless the
configuration stops it). Then one three-node cluster, each node reaching
Consul through a relay of its own, lives through: Consul restarted without its
state; Consul without a leader for less, then for more, than the primary's
lease; and the primary alone cut off from Consul. Probes read @@read_only on
every node every 100 ms throughout (chaos.py's), and no two nodes may ever be
proved writable at once. The tests run in order and share the cluster.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos  # noqa: E402
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402

# FAST_TIMING (harness): interval 1 s, HEALTH_TTL 5 s, SESSION_TTL 10 s,
# lock-delay 2 s; a pass that does not fence runs at most P = 2.5 s, one that
# does fences within H = 3 s (lib/core/config.h). While its agent takes
# heartbeats (a Consul without a leader), the primary's last covered pass
# starts by 10 + 2 - 2.5 - 3 = 6.5 s after its last proof: an outage of 4 s is
# covered whatever its phase. When nothing answers (a paused real agent), by
# 5 + 2 - 5.5 = 1.5 s: one silent pass, so half a second while passes keep
# their 1 s interval.
SHORT_OUTAGE = {True: 4.0, False: 0.5}  # by "is the double": always covered
LONG_OUTAGE = 20.0  # never covered


def writable(nodes):
    return [n for n in nodes if not n.read_only()]


class FaultsTest(ClusterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.new_cluster("mysql", relays=True)
        cls.probers = {}
        cls.t_begin = time.monotonic()

    @classmethod
    def tearDownClass(cls):
        for prober in cls.probers.values():  # before the clusters' cleanups stop their nodes
            prober.stop()

    def require_consul_faults(self):
        if self.consul.faults:
            self.skipTest(self.consul.faults)

    # ---- helpers over the shared cluster

    def start_probes(self):
        for node in self.main.nodes:
            if node.name not in self.probers:
                self.probers[node.name] = chaos.NodeProber(node)
                self.probers[node.name].start()

    def overlaps_since(self, t_from):
        count, longest, evidence = chaos.overlaps(self.probers, self.t_begin, t_from,
                                                  time.monotonic())
        return count, evidence

    def answers(self, name, t_from, t_to=None):
        t_to = t_to or time.monotonic()
        return [s for s in list(self.probers[name].samples) if t_from <= s.t_start < t_to]

    def converged(self, timeout=180):
        """Every node passing, exactly one writable and it holds the lock; the primary."""
        c = self.main
        c.wait_healthy(c.nodes, timeout=timeout)

        def one_writable_holder():
            w = writable(c.nodes)
            return w[0] if len(w) == 1 and c.primary() is w[0] else None
        return wait_for("one writable node holding the lock", one_writable_holder,
                        timeout=timeout)

    def catalog(self, service):
        """{ID: (Address, Port, Tags, check Name, check Notes)} of a service's instances."""
        status, body = self.consul.request("GET", f"/v1/health/service/{service}")
        self.assertEqual(status, 200, body)
        out = {}
        for entry in json.loads(body):
            svc = entry["Service"]
            check = next(c for c in entry["Checks"] if c["CheckID"] == "service:" + svc["ID"])
            out[svc["ID"]] = (svc["Address"], svc["Port"], sorted(svc["Tags"] or []),
                              check["Name"], check["Notes"])
        return out

    # ---- ContainerPilot

    def test_1_failed_pre_start_stops_containerpilot(self):
        c = self.new_cluster("broken", first_index=20,
                             extra_env={"MYSQL_CNF_TEMPLATE": "/nonexistent/my.cnf.tmpl"})
        node = c.add().start()

        def step():
            # ContainerPilot 3 keeps running after a failed preStart; the
            # preStartFailed job stops it (real ContainerPilot waits the full
            # stopTimeout, 10 s here, before it exits).
            wait_for("ContainerPilot to exit after pre_start failed",
                     lambda: node.proc.poll() is not None, timeout=60)
            self.assertIn("pre_start", node.log())
            self.assertEqual(self.consul.passing("broken"), set())
            self.assertFalse(os.path.exists(os.path.join(node.dir, "run", "mysqld.pid")))
        self.run_step(step, c)

    # ---- Consul restarted without its state

    def test_2_cluster_assembles(self):
        c = self.main
        c.start(3)

        def step():
            primary = self.converged()
            for n in c.nodes:
                if n is not primary:
                    wait_for(f"{n.name} to be a replica", lambda: n.state("role") == "replica",
                             timeout=60)
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY)", "appdb")
            self.start_probes()
        self.run_step(step, c)

    def test_3_consul_restarted_without_its_state(self):
        self.require_consul_faults()
        c = self.main

        def step():
            primary = self.converged()
            before = {s: self.catalog(s) for s in ("mysql", "mysql-primary")}
            self.assertEqual(len(before["mysql"]), 3)
            t_fault = time.monotonic()
            self.consul.restart_empty()
            # The last primary takes the lock back; every node registers its
            # service again and its heartbeats land: all pass again.
            back = self.converged(timeout=60)
            took = time.monotonic() - t_fault
            print(f"\nConsul restarted empty: {back.name} writable and holding the lock "
                  f"after {took:.1f} s", file=sys.stderr)
            self.assertIs(back, primary)
            wait_for("the -primary service again", lambda: self.consul.passing("mysql-primary"),
                     timeout=30)
            after = {s: self.catalog(s) for s in ("mysql", "mysql-primary")}
            self.assertEqual(after, before, "registered again exactly as ContainerPilot did")
            count, evidence = self.overlaps_since(t_fault)
            self.assertEqual(count, 0, evidence)
            back.sql("INSERT INTO t VALUES (1)", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 1)
        self.run_step(step, c)

    # ---- Consul without a leader

    def test_4_consul_without_a_leader_for_less_than_the_lease(self):
        self.require_consul_faults()
        c = self.main

        def step():
            self.converged()
            time.sleep(3)  # a few passes that renew the primary's lease
            primary = self.converged()
            app = primary.connect()
            outage = SHORT_OUTAGE[self.consul.is_double()]
            t_fault = time.monotonic()
            self.consul.lose_leader()
            try:
                row = 100
                while time.monotonic() - t_fault < outage:
                    with app.cursor() as cur:  # the application's connection lives on
                        cur.execute("INSERT INTO t VALUES (%s)", (row,))
                    row += 1
                    time.sleep(0.1)
            finally:
                self.consul.elect_leader()
            time.sleep(5)
            self.assertIs(self.converged(), primary)
            with app.cursor() as cur:
                cur.execute("INSERT INTO t VALUES (%s)", (row,))
            app.close()
            fenced = [s for s in self.answers(primary.name, t_fault)
                      if s.value == chaos.READ_ONLY]
            self.assertEqual(fenced, [], "the primary was fenced")
            count, evidence = self.overlaps_since(t_fault)
            self.assertEqual(count, 0, evidence)
        self.run_step(step, c)

    def test_5_consul_without_a_leader_for_longer_than_the_lease(self):
        self.require_consul_faults()
        c = self.main

        def step():
            primary = self.converged()
            t_fault = time.monotonic()
            self.consul.lose_leader()
            try:
                # Nobody can take the lock while there is no leader: the
                # primary must fence itself meanwhile, when its lease runs out.
                wait_for(f"{primary.name} to fence itself", lambda: primary.read_only(),
                         timeout=LONG_OUTAGE - 2, interval=0.1)
                fenced_after = time.monotonic() - t_fault
                print(f"\nno leader: {primary.name} fenced after {fenced_after:.1f} s",
                      file=sys.stderr)
                time.sleep(max(0.0, LONG_OUTAGE - (time.monotonic() - t_fault)))
            finally:
                self.consul.elect_leader()
            new = self.converged()
            print(f"leader back: {new.name} is the primary", file=sys.stderr)
            count, evidence = self.overlaps_since(t_fault)
            self.assertEqual(count, 0, evidence)
            for n in c.nodes:
                if n is not new:
                    wait_for(f"{n.name} to be a replica", lambda: n.state("role") == "replica",
                             timeout=120)
        self.run_step(step, c)

    # ---- the primary alone cut off from Consul

    def test_6_primary_cut_off_from_consul_fences_before_anyone_is_promoted(self):
        c = self.main

        def step():
            primary = self.converged()
            t_fault = time.monotonic()
            primary.relay.cut()
            try:
                def another_writable():
                    w = [n for n in writable(c.nodes) if n is not primary]
                    return w[0] if w else None
                new = wait_for("another node to be promoted", another_writable, timeout=120,
                               interval=0.1)
                t_new = time.monotonic()
                self.assertTrue(primary.read_only())
                fenced = [s for s in self.answers(primary.name, t_fault)
                          if s.value == chaos.READ_ONLY]
                self.assertTrue(fenced, "no read_only=1 answer from the old primary")
                print(f"\ncut off: {primary.name} fenced after {fenced[0].t_end - t_fault:.1f} s,"
                      f" {new.name} writable after {t_new - t_fault:.1f} s", file=sys.stderr)
                self.assertLess(fenced[0].t_end, t_new)
            finally:
                primary.relay.heal()
            self.converged()
            wait_for(f"{primary.name} to rejoin as a replica",
                     lambda: primary.state("role") == "replica", timeout=120)
            count, evidence = self.overlaps_since(t_fault)
            self.assertEqual(count, 0, evidence)
        self.run_step(step, c)


    # ---- A new node while Consul has lost a running cluster's state

    def test_7_a_new_node_never_takes_the_key_consul_lost_from_a_running_cluster(self):
        self.require_consul_faults()
        c = self.main

        def step():
            primary = self.converged()
            replicas = [n for n in c.nodes if n is not primary]
            primary.sql("INSERT INTO t VALUES (7)", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 7)
            # The last primary cannot take its key back: the replicas fail over
            # after the grace. A new, empty node starts meanwhile; it would
            # bootstrap within seconds if it took the missing key for a new
            # cluster's, and lead the replicas with none of their data.
            primary.freeze()
            try:
                t_fault = time.monotonic()
                self.consul.restart_empty()
                new = c.add().start()
                self.start_probes()
                holders = set()

                def a_replica_leads():
                    holders.add(c.primary_name())
                    leader = c.primary()
                    return leader if leader in replicas else None
                winner = wait_for("a replica to be promoted", a_replica_leads, timeout=120,
                                  interval=0.2)
                print(f"\nConsul lost the key of a cluster whose primary is frozen: {winner.name}"
                      f" leads after {time.monotonic() - t_fault:.1f} s; {new.name}, new, never"
                      f" held it", file=sys.stderr)
                self.assertNotIn(new.name, holders)
            finally:
                primary.thaw()
            self.converged(timeout=240)
            self.assertIs(c.primary(), winner)
            self.assertEqual(new.state("role"), "replica")
            for n in c.nodes:
                c.wait_row(n, "t", 7)
            self.assertFalse([s for s in self.answers(new.name, t_fault)
                              if s.value == chaos.WRITABLE], "the new node was writable")
            count, evidence = self.overlaps_since(t_fault)
            self.assertEqual(count, 0, evidence)
        self.run_step(step, c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
