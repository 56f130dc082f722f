"""Integration tests of failover, switchover and rejoin: real mariadbd on
loopback addresses under ContainerPilot, semi-synchronous replication on.

The tests run in order on one three-node cluster (a story, as in
test_cluster.py): a killed primary is replaced and comes back as a replica; an
operator's switchover hands the role over and back; a node holding a
transaction the new primary lacks refuses to follow it and names the GTID.
"""

import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402


def writable(nodes):
    out = []
    for n in nodes:
        try:
            if not n.read_only():
                out.append(n)
        except RuntimeError:
            pass  # a stopped node
    return out


def wait_all_follow(nodes, primary, timeout=30):
    """Every node but `primary` replicates from it (SHOW SLAVE STATUS names it)."""
    def source(node):
        rows = node.sql("SHOW SLAVE STATUS")
        return rows[0][1] if rows else None
    for n in nodes:
        if n is not primary:
            wait_for(f"{n.name} to replicate from {primary.name}",
                     lambda n=n: source(n) == primary.ip, timeout=timeout)


class FailoverTest(ClusterCase):
    base_prefix = "manage-failover-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.new_cluster("mysql", extra_env={"SEMI_SYNC": "on"})

    def history(self):
        value, _ = self.consul.kv(f"{self.c.service}-failover-history")
        return json.loads(value) if value else []

    def new_primary(self, old, timeout=60):
        return wait_for("a new primary", lambda: (
            self.c.primary() if self.c.primary() not in (None, old) else None), timeout=timeout)

    def test_1_killed_primary_is_replaced_and_rejoins(self):
        c = self.c

        def step():
            c.start(3)
            c.wait_healthy(c.nodes, timeout=180)
            primary = wait_for("a primary", c.primary, timeout=60)
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))", "appdb")
            primary.sql("INSERT INTO t VALUES (1, 'before the kill')", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 1)
            wait_for("semi-sync on the primary", lambda: primary.sql(
                "SELECT @@rpl_semi_sync_master_enabled")[0][0] == "1", timeout=30)
            # Bootstrap is over (time zones are loaded before the first
            # snapshot): a kill now interrupts no write of its own.
            wait_for("the first snapshot", lambda: self.consul.kv(
                f"{c.service}-last-backup")[0], timeout=120)
            for n in c.nodes:
                c.wait_row(n, "t", 1)

            primary.stop(signal.SIGKILL)
            new = self.new_primary(primary)
            wait_for("exactly one writable node", lambda: writable(c.nodes) == [new], timeout=30)
            new.sql("INSERT INTO t VALUES (2, 'after the failover')", "appdb")
            for n in c.nodes:
                if n is not primary:
                    c.wait_row(n, "t", 2)
            event = self.history()[-1]
            self.assertEqual(event["kind"], "failover")
            self.assertEqual(event["old"], primary.name)
            self.assertEqual(event["new"], new.name)
            self.assertEqual(len(event["candidates"]), 2)
            status = new.manage("status")
            self.assertEqual(status.returncode, 0, status.stderr)
            self.assertIn(f"failover {primary.name} -> {new.name}", status.stdout)

            # Back from the dead: it had nothing the cluster lacks, so it
            # rejoins as a replica by itself.
            primary.start()
            c.wait_healthy([primary], timeout=120)
            wait_for("the old primary to be a replica",
                     lambda: primary.state("role") == "replica", timeout=60)
            c.wait_row(primary, "t", 2)
            self.assertEqual(writable(c.nodes), [new])
        self.run_step(step)

    def test_2_switchover_hands_over_and_the_old_primary_follows(self):
        c = self.c

        def step():
            old = c.primary()
            target = next(n for n in c.nodes if n is not old)
            out = old.manage("switchover", "--to", target.hostname, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("writes_blocked_ms=", out.stderr)
            self.assertEqual(c.primary_name(), target.name)
            wait_for("exactly one writable node", lambda: writable(c.nodes) == [target],
                     timeout=30)
            self.assertEqual(old.state("role"), "replica")
            # Every other node repoints to the new primary (not only through the old one).
            wait_all_follow(c.nodes, target)
            target.sql("INSERT INTO t VALUES (3, 'after the switchover')", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 3)
            event = self.history()[-1]
            self.assertEqual((event["kind"], event["old"], event["new"]),
                             ("switchover", old.name, target.name))

            # Run anywhere but the primary, it refuses and changes nothing.
            out = old.manage("switchover")
            self.assertEqual(out.returncode, 1)
            self.assertIn(f"run this on the primary, {target.name}", out.stderr)
        self.run_step(step)

    def test_3_a_node_with_errant_transactions_refuses_to_follow(self):
        c = self.c

        def step():
            primary = c.primary()
            wait_all_follow(c.nodes, primary)
            errant, other = [n for n in c.nodes if n is not primary]
            # root bypasses read_only: a write only this replica has.
            errant.sql("INSERT INTO t VALUES (100, 'errant')", "appdb")
            gtid = errant.sql("SELECT @@gtid_binlog_pos")[0][0]
            out = primary.manage("switchover", "--to", other.hostname, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            wait_for("the errant GTID in the node's log",
                     lambda: f"errant_gtids={gtid}" in errant.log(), timeout=60)
            wait_for("the errant node to fail its health check",
                     lambda: errant.name not in c.healthy(), timeout=60)
            # It never followed the new primary.
            status = errant.sql("SHOW SLAVE STATUS")
            self.assertNotIn(other.ip, " ".join(" ".join(r) for r in status))
            self.assertEqual(writable(c.nodes), [other])
        self.run_step(step)

    def test_4_a_node_with_errant_transactions_is_never_promoted(self):
        c = self.c

        def step():
            primary = c.primary()
            errant = next(n for n in c.nodes if n is not primary
                          and "errant_gtids=" in n.log())
            clean = next(n for n in c.nodes if n not in (primary, errant))
            wait_for(f"{clean.name} to replicate from {primary.name}",
                     lambda: clean.sql("SHOW SLAVE STATUS")[0][1] == primary.ip, timeout=60)
            # The errant node has more GTIDs than the clean one: the old choice.
            primary.stop(signal.SIGKILL)
            new = self.new_primary(primary)
            self.assertIs(new, clean)
            wait_for("exactly one writable node", lambda: writable(c.nodes) == [clean],
                     timeout=30)
            event = self.history()[-1]
            self.assertEqual((event["kind"], event["new"]), ("failover", clean.name))
            self.assertIn(errant.name, [cand["node"] for cand in event["candidates"]])
            self.assertNotIn(errant.name, c.healthy())
            primary.start()
            c.wait_healthy([primary], timeout=120)
            self.assertEqual(writable(c.nodes), [clean])
        self.run_step(step)

    def test_5_flashback_reverts_the_errant_write_and_the_node_rejoins(self):
        c = self.c

        def step():
            primary = c.primary()
            errant = next(n for n in c.nodes if "errant_gtids=" in n.log())
            self.assertEqual(errant.sql("SELECT v FROM t WHERE id=100", "appdb"), [["errant"]])
            errant.stop()
            errant.extra_env["ERRANT_POLICY"] = "flashback"
            errant.start()
            c.wait_healthy([errant], timeout=120)
            wait_all_follow(c.nodes, primary)
            # The write is reverted, kept in a file, and gone from the GTID state.
            self.assertEqual(errant.sql("SELECT COUNT(*) FROM t WHERE id=100", "appdb"), [["0"]])
            saved = [f for f in os.listdir(errant.state_dir) if f.startswith("errant-")]
            self.assertEqual(len(saved), 1, saved)
            with open(os.path.join(errant.state_dir, saved[0])) as f:
                self.assertIn("'errant'", f.read())
            # The failover hook reverts: on_change's (ContainerPilot's log) or
            # one a health pass started (detached.log), whichever came first.
            self.assertIn("errant transactions reverted with flashback",
                          errant.log() + errant.detached_log())
            primary.sql("INSERT INTO t VALUES (4, 'after the flashback')", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 4)
            positions = {n.sql("SELECT @@gtid_current_pos")[0][0] for n in c.nodes}
            self.assertEqual(len(positions), 1, positions)
            sums = {n.sql("CHECKSUM TABLE appdb.t")[0][1] for n in c.nodes}
            self.assertEqual(len(sums), 1, sums)
            self.assertEqual(writable(c.nodes), [primary])
        self.run_step(step)


if __name__ == "__main__":
    unittest.main()
