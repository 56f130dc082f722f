"""Point-in-time recovery with S3 as the only store (the S3 test world:
s3rver behind a SigV4-verifying front), segments compressed and encrypted.

An operator's day, in order: the archiver is SIGKILLed while an upload of
its hangs (the store holds it); the primary is SIGKILLed and the replica
takes over; a table is dropped. Then the whole cluster is gone, its Consul
keys too, and a new cluster (another SERVICE_NAME) is stood up from the
store alone with RESTORE_FROM/RESTORE_TO set to the second before the DROP:
every row written before it is there, across both primaries and the killed
upload, and nothing after. Nodes on <net>.115-116, the new cluster's on .118.
"""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402
from pitr import (archive_head, backup_list, crash_archiver, drop_at_a_fresh_second,  # noqa: E402
                  keep_only_the_first_snapshot, restored_transactions, wait_archived,
                  write_rows)
from s3world import S3World  # noqa: E402

KEY = "6f7264657273" + "5f" * 26  # 64 hex digits


class PitrS3Test(ClusterCase):
    base_prefix = "manage-it-pitr-s3-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = cls.started(S3World(cls.base))
        env = {k: "" for k in os.environ if k.startswith("AWS_")}
        env.update(cls.world.env())
        env.update({"STORAGE_DIR": os.path.join(cls.base, "no-shared-folder"),
                    "SNAPSHOT_ENCRYPTION_KEY": KEY, "BINLOG_ARCHIVE_RPO": "2"})
        cls.env = env
        cls.c = cls.new_cluster("orders", first_index=114, extra_env=env)

    def test_1_a_table_dropped_after_a_killed_upload_and_a_failover_comes_back(self):
        c = self.c

        def step():
            nodes = c.start(2)
            c.wait_healthy(nodes, timeout=240)
            old = wait_for("a primary", c.primary, timeout=30)
            wait_for("the first snapshot", lambda: self.consul.kv("orders-last-backup")[0],
                     timeout=240)
            old.sql("CREATE TABLE o (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            written = write_rows(old, "o", range(1, 6))

            # The archiver dies while the store holds its upload.
            self.world.fault(method="PUT", key="/binlogs/orders/", action="hold", seconds=120)
            written.update(write_rows(old, "o", [6], gap=0))
            wait_for("the upload to hang", lambda: [r for r in self.world.requests()
                                                    if " held" in r], timeout=30)
            held = [r for r in self.world.requests() if " held" in r][0].split()[1]
            crash_archiver(old)
            gtid6 = old.sql("SELECT @@gtid_binlog_pos")[0][0]
            wait_archived(self.consul, "orders", gtid6, timeout=90)
            self.assertNotIn(held.split("/backups/", 1)[1], self.world.keys())

            # The primary dies; the replica carries on.
            written.update(write_rows(old, "o", range(7, 11), gap=0.2))
            replica = next(n for n in c.nodes if n is not old)
            c.wait_row(replica, "o", 10)
            old.crash()
            new = wait_for("the replica to take over",
                           lambda: c.primary() if c.primary() is replica else None, timeout=90)
            wait_for("it to be writable", lambda: not new.read_only(), timeout=30)
            written.update(write_rows(new, "o", range(11, 16), gap=0.2))
            _, dropped_at = drop_at_a_fresh_second(new, "DROP TABLE o", max(written.values()) + 1)
            new.sql("CREATE TABLE z (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            write_rows(new, "z", [1], gap=0)
            wait_archived(self.consul, "orders", new.sql("SELECT @@gtid_binlog_pos")[0][0])
            archive = backup_list(new)["archive"]
            self.assertEqual(archive["gaps"], [], archive)
            self.assertGreaterEqual(archive["epoch"], 3, archive)  # two terms on the old primary
            type(self).written, type(self).dropped_at = written, dropped_at
        self.run_step(step)

    def test_2_a_new_cluster_stands_up_at_the_second_before_the_drop_from_the_store_alone(self):
        def step():
            self.c.stop()
            status, _ = self.consul.request("DELETE", "/v1/kv/orders?recurse")
            self.assertEqual(status, 200)
            self.assertIsNone(archive_head(self.consul, "orders"))
            # Only the first snapshot remains: the restore replays the archive
            # across the killed upload and both primaries.
            keep_only_the_first_snapshot(
                [k for k in self.world.keys() if "/" not in k],
                lambda k: self.world.aws("s3", "rm", f"s3://{self.world.bucket}/{k}"))
            to = datetime.datetime.fromtimestamp(self.dropped_at - 1, datetime.timezone.utc)
            env = dict(self.env, RESTORE_FROM="orders",
                       RESTORE_TO=to.strftime("%Y-%m-%dT%H:%M:%SZ"))
            r = self.new_cluster("recovered", first_index=117, extra_env=env)
            node = r.start(1)[0]
            r.wait_healthy([node], timeout=300)
            wait_for("the restored node to lead", r.primary, timeout=60)
            self.assertEqual(node.state("origin"), "pitr")
            self.assertGreaterEqual(restored_transactions(node.log()), len(self.written))
            ids = sorted(int(row[0]) for row in node.sql("SELECT id FROM o", "appdb"))
            self.assertEqual(ids, sorted(self.written))
            self.assertEqual(node.sql("SHOW TABLES LIKE 'z'", "appdb"), [])
            wait_for("it to be writable", lambda: not node.read_only(), timeout=30)
            node.sql("INSERT INTO o VALUES (100, NOW())", "appdb")
            listed = json.loads(node.manage("backup", "list", "--json").stdout)
            self.assertIn("recovered", json.dumps(listed["archive"]))
        self.run_step(step)


if __name__ == "__main__":
    unittest.main()
