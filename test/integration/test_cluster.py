"""Integration tests: real mariadbd and mariabackup on loopback addresses, each
node under ContainerPilot (real or stand-in) with Consul (real or double).

The tests share one Consul and run in order (unittest sorts them by name); each
leaves the cluster in the state the next expects, so the whole file is one
story: bootstrap, grow, restart, share Consul, wait for a first snapshot.
"""

import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402


def writable(nodes):
    return [n for n in nodes if not n.read_only()]


def binlogs_and_logs(node):
    """Every file of a node anyone but root could read a secret from: its binlogs
    and relay logs (replicated, archived with snapshots), and its logs."""
    names = sorted(os.listdir(node.datadir))
    paths = [os.path.join(node.datadir, f) for f in names
             if f.startswith(("mysql-bin.0", "relay-bin.0"))]
    paths.append(node.log_path)
    detached = os.path.join(node.state_dir, "detached.log")
    if os.path.exists(detached):
        paths.append(detached)
    return paths


def holding(paths, needles):
    """(path, needle) for each needle found in a file."""
    found = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        found += [(path, n) for n in needles if n.encode() in data]
    return found


class ClusterTest(ClusterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.new_cluster("mysql")

    def test_1_three_nodes_bootstrap_from_nothing(self):
        c = self.main
        nodes = c.start(3)

        def step():
            c.wait_healthy(nodes, timeout=180)
            primary = wait_for("a primary", c.primary, timeout=30)
            replicas = [n for n in nodes if n is not primary]
            wait_for("the primary alone to be writable",
                     lambda: writable(nodes) == [primary], timeout=60)
            for r in replicas:
                wait_for(f"{r.name} to be a replica", lambda: r.state("role") == "replica",
                         timeout=30)
            self.assertEqual(primary.state("role"), "primary")
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))", "appdb")
            primary.sql("INSERT INTO t VALUES (1, 'hello')", "appdb")
            for r in replicas:
                c.wait_row(r, "t", 1)
            # The application user and the replication user exist everywhere.
            for n in nodes:
                users = {row[0] for row in n.sql("SELECT User FROM mysql.user")}
                self.assertTrue({"app", "repl"} <= users, users)
            # The first snapshot was taken and recorded with its checksum.
            wait_for("the first snapshot", lambda: c.consul.kv("mysql-last-backup")[0],
                     timeout=120)
            status = nodes[0].manage("status", "--json")
            self.assertEqual(status.returncode, 0, status.stderr)
            self.assertIn('"primary":"' + primary.name + '"', status.stdout)
            self.assertNotIn("repl-secret", status.stdout + status.stderr)
            # No password in any binlog, relay log or log line: the users were
            # created with their hashes.
            root_password = primary.state("root-password")
            self.assertTrue(root_password)
            for n in nodes:
                paths = binlogs_and_logs(n)
                self.assertTrue(any("mysql-bin." in p for p in paths), paths)
                self.assertEqual(
                    holding(paths, ["app-secret", "repl-secret", root_password]), [])
            self.assertTrue(any("relay-bin." in p for n in replicas for p in binlogs_and_logs(n)))
            # Time zones were loaded with the system tables, on each node:
            # they never went through replication.
            for n in nodes:
                self.assertEqual(n.sql("SELECT COUNT(*) > 0 FROM mysql.time_zone_name"), [["1"]])
                binlogs = [p for p in binlogs_and_logs(n) if os.path.dirname(p) == n.datadir]
                self.assertEqual(holding(binlogs, ["time_zone_transition"]), [])
        self.run_step(step, c)

    def test_2_fourth_node_provisions_from_snapshot(self):
        c = self.main
        primary = c.primary()
        primary.sql("INSERT INTO t VALUES (2, 'before n4')", "appdb")
        n4 = c.add().start()

        def step():
            self.check_provisioned_from_snapshot(c, n4, primary, timeout=180)
        self.run_step(step, c)

    def test_2b_operator_backup_commands(self):
        c = self.main
        node = next(n for n in c.nodes if n is not c.primary())

        def step():
            listed = node.manage("backup", "list", "--json")
            self.assertEqual(listed.returncode, 0, listed.stderr)
            report = json.loads(listed.stdout)
            newest = next(s for s in report["snapshots"] if s["newest"])
            self.assertEqual(newest["compression"], "zstd")
            self.assertGreater(newest["raw_size"], newest["size"])
            self.assertEqual(report["problems"], [])

            verified = node.manage("backup", "verify", newest["id"], timeout=300)
            self.assertEqual(verified.returncode, 0, verified.stderr)
            self.assertTrue(verified.stdout.startswith("ok: " + newest["id"]), verified.stdout)

            copy = os.path.join(self.base, "inspect", "data")
            restored = node.manage("backup", "restore", newest["id"], "--datadir", copy,
                                   timeout=300)
            self.assertEqual(restored.returncode, 0, restored.stderr)
            self.assertIn("gtid", restored.stdout)
            self.assertTrue(os.path.isdir(os.path.join(copy, "mysql")))
            self.assertTrue(os.path.isfile(os.path.join(copy, "ibdata1")))
            again = node.manage("backup", "restore", newest["id"], "--datadir", copy)
            self.assertEqual(again.returncode, 1)
            self.assertIn("is not empty", again.stderr)

            refused = node.manage("backup", "delete", newest["id"])
            self.assertEqual(refused.returncode, 1)
            self.assertIn("newest", refused.stderr)
            usage = node.manage("backup", "verify")
            self.assertEqual(usage.returncode, 2)
        self.run_step(step, c)

    def test_2c_a_full_disk_on_restore_leaves_nothing_behind(self):
        c = self.main
        node = c.nodes[0]
        newest = json.loads(c.consul.kv("mysql-last-backup")[0])["id"]
        small = os.path.join(self.base, "small")
        os.makedirs(small)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small],
                                 capture_output=True, text=True)
        self.assertEqual(mounted.returncode, 0, "tmpfs for the full-disk test: " + mounted.stderr)
        try:
            target = os.path.join(small, "data")
            full = node.manage("backup", "restore", newest, "--datadir", target, timeout=300)
            self.assertEqual(full.returncode, 1, full.stdout)
            self.assertIn("mbstream", full.stderr)
            self.assertFalse(os.path.exists(target), os.listdir(small))
            self.assertEqual(os.listdir(small), [])
        finally:
            subprocess.run(["umount", small], check=False)

    def test_3_restarted_replica_keeps_role_a_stopped_primary_hands_over(self):
        c = self.main

        def step():
            primary = c.primary()
            replica = next(n for n in c.nodes if n is not primary)
            replica.stop(signal.SIGTERM)
            replica.start()
            c.wait_healthy([replica], timeout=120)
            self.assertEqual(replica.state("role"), "replica")
            c.wait_row(replica, "t", 3)
            primary.sql("INSERT INTO t VALUES (4, 'after replica restart')", "appdb")
            c.wait_row(replica, "t", 4)

            # A clean stop of the primary hands the role over (pre_stop does a
            # switchover); the old primary comes back as a replica.
            primary.stop(signal.SIGTERM)
            new = wait_for("another node to hold the lock",
                           lambda: c.primary() if c.primary() not in (None, primary) else None,
                           timeout=30)
            primary.start()
            c.wait_healthy([primary], timeout=120)
            wait_for("the old primary to replicate from the new one",
                     lambda: primary.state("role") == "replica", timeout=60)
            wait_for("exactly one writable node", lambda: writable(c.nodes) == [new], timeout=30)
            new.sql("INSERT INTO t VALUES (5, 'after primary restart')", "appdb")
            for n in c.nodes:
                c.wait_row(n, "t", 5)
            history = json.loads(c.consul.kv(f"{c.service}-failover-history")[0])
            self.assertEqual(history[-1]["kind"], "switchover")
            self.assertEqual(history[-1]["old"], primary.name)
            self.assertEqual(history[-1]["new"], new.name)
        self.run_step(step, c)

    def test_4_two_clusters_share_one_consul(self):
        other = self.new_cluster("orders", first_index=10)
        nodes = other.start(2)

        def step():
            other.wait_healthy(nodes, timeout=180)
            primary = wait_for("a primary of orders", other.primary, timeout=30)
            self.assertIn(primary, nodes)
            # The first cluster still has its own primary and all its nodes.
            self.assertIn(self.main.primary(), self.main.nodes)
            self.main.wait_healthy(self.main.nodes, timeout=30)
            # Keys and snapshots are per cluster.
            wait_for("the orders snapshot",
                     lambda: other.consul.kv("orders-last-backup")[0], timeout=120)
            record = other.consul.kv("orders-last-backup")[0]
            self.assertIn('"id":"orders-backup-', record)
            primary.sql("CREATE TABLE o (id INT PRIMARY KEY)", "appdb")
            primary.sql("INSERT INTO o VALUES (1)", "appdb")
            replica = next(n for n in nodes if n is not primary)
            other.wait_row(replica, "o", 1)
            with self.assertRaises(Exception):
                self.main.primary().sql("SELECT * FROM o", "appdb")
        self.run_step(step, other)

    def test_5_replica_started_before_first_snapshot_waits_then_joins(self):
        c = self.new_cluster("early", first_index=20,
                             extra_env={"SNAPSHOT_WAIT_TIMEOUT": "300"})
        # A primary exists (holds the lock) but has no snapshot yet.
        session = c.consul.session("stand-in-primary")
        status, body = c.consul.request("PUT", f"/v1/kv/early-primary?acquire={session}",
                                        "early-elsewhere")
        self.assertEqual((status, body.strip()), (200, "true"))
        early = c.add().start()

        def step():
            wait_for("the replica to wait for a snapshot",
                     lambda: "waiting for the primary's first snapshot" in early.log(),
                     timeout=60)
            self.assertFalse(os.path.isdir(os.path.join(early.datadir, "mysql")))
            # The stand-in lets go of the lock naming nobody (a lock that names a
            # node is only ever taken by that node); the real primary arrives,
            # bootstraps and snapshots.
            c.consul.request("PUT", f"/v1/kv/early-primary?release={session}")
            c.consul.request("PUT", f"/v1/session/destroy/{session}")
            primary = c.add().start()
            c.wait_healthy([primary, early], timeout=240)
            self.assertEqual(c.primary(), primary)
            self.assertEqual(early.state("origin"), "snapshot")
            primary.sql("CREATE TABLE e (id INT PRIMARY KEY)", "appdb")
            primary.sql("INSERT INTO e VALUES (1)", "appdb")
            c.wait_row(early, "e", 1)
        self.run_step(step, c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
