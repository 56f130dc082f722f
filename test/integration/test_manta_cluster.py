"""A cluster whose snapshots live in Manta (the Manta double, which checks
every request's signature with Joyent's http-signature): the original's
defaults and variables only, no shared folder.

The nodes get no SNAPSHOT_BACKEND (manta is the default) and no STORAGE_DIR,
only the original's MANTA_URL, MANTA_USER, MANTA_KEY_ID, MANTA_BUCKET (a
directory that does not exist yet) and MANTA_PRIVATE_KEY with '#' for its
newlines. Three nodes assemble; a fourth, added later, provisions itself from
the snapshot in Manta. The primary's binlogs are archived there too, and a
restore to the second before a DROP reads them back. The checks are what a
user sees (the cluster, the rows), not object names or formats.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "doubles"))
from cluster_case import ClusterCase  # noqa: E402
from harness import Cluster, Node, wait_for  # noqa: E402
from manta_world import FINGERPRINTS, MantaDouble  # noqa: E402
from pitr import (drop_at_a_fresh_second, restored_server, table_ids,  # noqa: E402
                  wait_archived, write_rows)

BUCKET = "/manage/stor/mysql-snapshots"


class MantaNode(Node):
    """A node configured as a user of the original would: Manta by default."""

    def env(self):
        env = super().env()
        for name in ("SNAPSHOT_BACKEND", "BACKUP_DRIVER", "STORAGE_DIR"):
            env.pop(name, None)
        env.update(self.cluster.manta_env)
        return env


class MantaCluster(Cluster):
    def __init__(self, *args, manta_env, **kwargs):
        super().__init__(*args, **kwargs)
        self.manta_env = manta_env

    def add(self):
        node = MantaNode(self, self.first_index + len(self.nodes))
        self.nodes.append(node)
        return node


class MantaClusterTest(ClusterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manta = cls.started(MantaDouble(cls.base))
        env = cls.manta.env(key="rsa", bucket=BUCKET, fold=True)
        assert "\n" not in env["MANTA_PRIVATE_KEY"] and "#" in env["MANTA_PRIVATE_KEY"]
        cls.c = cls.new_cluster("mysql", first_index=70, cluster_type=MantaCluster, manta_env=env)

    def extra_logs(self):
        with open(self.manta.log_path, errors="replace") as f:
            return "--- manta double ---\n" + "".join(f.readlines()[-30:])

    def test_1_three_nodes_assemble_with_snapshots_in_manta(self):
        c = self.c
        nodes = c.start(3)

        def step():
            c.wait_healthy(nodes, timeout=180)
            primary = wait_for("a primary", c.primary, timeout=30)
            for r in (n for n in nodes if n is not primary):
                wait_for(f"{r.name} to be a replica", lambda: r.state("role") == "replica",
                         timeout=60)
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))", "appdb")
            primary.sql("INSERT INTO t VALUES (1, 'hello manta')", "appdb")
            wait_for("the first snapshot", lambda: c.consul.kv("mysql-last-backup")[0],
                     timeout=180)
            # It went to Manta, into the directory the nodes created, signed
            # with the configured key; nothing went to a local folder.
            self.assertTrue(self.manta.objects(BUCKET), "no object in " + BUCKET)
            puts = [r for r in self.manta.requests()
                    if r["method"] == "PUT" and r["path"].startswith(BUCKET + "/")
                    and r["status"] == 204]
            self.assertTrue(puts)
            self.assertTrue(all(r["keyId"] == "/manage/keys/" + FINGERPRINTS["rsa"]
                                for r in puts))
            self.assertTrue(any(r["chunked"] for r in puts))
            self.assertFalse(os.path.exists(c.storage_dir) and os.listdir(c.storage_dir))
        self.run_step(step)

    def test_2_a_node_added_later_provisions_from_manta(self):
        c = self.c
        primary = c.primary()
        primary.sql("INSERT INTO t VALUES (2, 'before n4')", "appdb")
        gets_before = self.object_gets()
        n4 = c.add().start()

        def step():
            self.check_provisioned_from_snapshot(c, n4, primary)
            self.assertGreater(self.object_gets(), gets_before, "n4 read nothing from Manta")
        self.run_step(step)

    def test_3_binlogs_archived_to_manta_restore_to_the_second_before_a_drop(self):
        c = self.c
        primary = c.primary()

        def step():
            primary.sql("CREATE TABLE p (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            times = write_rows(primary, "p", range(1, 7))
            _, dropped_at = drop_at_a_fresh_second(primary, "DROP TABLE p",
                                                   max(times.values()) + 1)
            primary.sql("CREATE TABLE after_drop (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            write_rows(primary, "after_drop", [1], gap=0)
            wait_archived(self.consul, "mysql", primary.sql("SELECT @@gtid_binlog_pos")[0][0],
                          timeout=90)
            segments = [r for r in self.manta.requests()
                        if r["method"] == "PUT" and r["path"].startswith(BUCKET + "/")
                        and "/binlogs/" in r["path"] and r["status"] == 204]
            self.assertTrue(segments, "no binlog segment went to Manta")
            self.assertTrue(all(r["keyId"] == "/manage/keys/" + FINGERPRINTS["rsa"]
                                for r in segments))
            # Restored from Manta alone into an empty directory: every row
            # written before the DROP, nothing after it.
            datadir = os.path.join(self.base, "restored-from-manta")
            out = primary.manage("backup", "restore", "--to-time", f"@{dropped_at - 1}",
                                 "--datadir", datadir, timeout=600)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            with restored_server(datadir) as sql:
                self.assertEqual(table_ids(sql, "p"), sorted(times))
                self.assertIsNone(table_ids(sql, "after_drop"))
        self.run_step(step)

    def object_gets(self):
        return sum(1 for r in self.manta.requests()
                   if r["method"] == "GET" and r["path"].startswith(BUCKET + "/")
                   and r["status"] in (200, 206))


if __name__ == "__main__":
    unittest.main()
