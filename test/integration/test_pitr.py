"""Point-in-time recovery against real servers, with the local store (no
compression, no encryption: a corrupt segment is caught by its checksum and
its events' CRC-32). A two-node cluster archives its binlog; rows are written
at known seconds, a table is dropped, and restores to a second and to a GTID
bring back exactly the rows before; a corrupt segment is refused before the
datadir is touched; after the primary is SIGKILLed and the replica takes over,
the archive continues without a gap and a restore spans both primaries. The
cluster runs with SEMI_SYNC=on: the promoted primary, alone, must not count
its own archiver's binlog dump as a replica (its commits would wait for an
acknowledgement that never comes). The tests run in order and build on each
other. Nodes on <net>.111-112.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402
from pitr import (backup_list, drop_at_a_fresh_second, gtid_seqno,  # noqa: E402
                  keep_only_the_first_snapshot, restored_server, restored_transactions,
                  table_ids, wait_archived, write_rows)

FIRST_INDEX = 110


class PitrLocalTest(ClusterCase):
    base_prefix = "manage-it-pitr-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.new_cluster("mysql", first_index=FIRST_INDEX, extra_env={
            "BINLOG_ARCHIVE_RPO": "2", "SNAPSHOT_COMPRESSION": "none", "SEMI_SYNC": "on"})
        cls.archive_dir = os.path.join(cls.c.storage_dir, "binlogs", "mysql")
        cls.restores = 0

    def restore(self, *args):
        """`manage backup restore ARGS --datadir <new dir>` on the primary; the dir."""
        type(self).restores += 1
        datadir = os.path.join(self.base, f"restored-{self.restores}")
        out = self.c.primary().manage("backup", "restore", *args, "--datadir", datadir,
                                      timeout=600)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return datadir

    def test_1_restore_to_a_second_and_to_a_gtid(self):
        c = self.c

        def step():
            nodes = c.start(2)
            c.wait_healthy(nodes, timeout=180)
            primary = wait_for("a primary", c.primary, timeout=30)
            wait_for("the first snapshot", lambda: self.consul.kv("mysql-last-backup")[0],
                     timeout=180)
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            times = write_rows(primary, "t", range(1, 13))
            gtid, dropped_at = drop_at_a_fresh_second(primary, "DROP TABLE t",
                                                      max(times.values()) + 1)
            primary.sql("CREATE TABLE after_drop (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            write_rows(primary, "after_drop", range(100, 104), gap=0.1)
            wait_archived(self.consul, "mysql", primary.sql("SELECT @@gtid_binlog_pos")[0][0])
            type(self).drop_gtid = gtid

            # One second before the DROP: every row is there, nothing after it.
            with restored_server(self.restore("--to-time", f"@{dropped_at - 1}")) as sql:
                self.assertEqual(table_ids(sql, "t"), sorted(times))
                self.assertIsNone(table_ids(sql, "after_drop"))
            # A second in the middle of the rows: exactly those written before it.
            middle = sorted(set(times.values()))[len(set(times.values())) // 2]
            before = sorted(i for i, t in times.items() if t < middle)
            self.assertTrue(0 < len(before) < len(times), (times, middle))
            with restored_server(self.restore("--to-time", f"@{middle}")) as sql:
                self.assertEqual(table_ids(sql, "t"), before)
            # Up to the DROP's GTID, excluded.
            with restored_server(self.restore("--to-gtid", gtid)) as sql:
                self.assertEqual(table_ids(sql, "t"), sorted(times))
                self.assertIsNone(table_ids(sql, "after_drop"))
                # The restored binlog continues the history right before the DROP.
                pos = sql("SELECT @@gtid_binlog_pos")[0][0]
                self.assertEqual(gtid_seqno(pos), gtid_seqno(gtid) - 1)
        self.run_step(step)

    def test_2_a_corrupt_segment_is_refused_before_the_datadir_is_touched(self):
        def step():
            seqno = gtid_seqno(self.drop_gtid)
            holding = [n for n in os.listdir(self.archive_dir) if n.split("_")[1] in "ts" and
                       gtid_seqno(n.split("_")[3]) <= seqno <= gtid_seqno(n.split("_")[4])]
            self.assertEqual(len(holding), 1, holding)
            path = os.path.join(self.archive_dir, holding[0])
            with open(path, "rb") as f:
                original = f.read()
            corrupt = bytearray(original)
            corrupt[len(corrupt) // 2] ^= 0x01
            with open(path, "wb") as f:
                f.write(corrupt)
            try:
                datadir = os.path.join(self.base, "refused")
                out = self.c.primary().manage("backup", "restore", "--to-gtid", self.drop_gtid,
                                              "--datadir", datadir, timeout=600)
                self.assertNotEqual(out.returncode, 0, out.stdout)
                self.assertIn("is corrupt", out.stderr)
                self.assertFalse(os.path.exists(datadir) and os.listdir(datadir),
                                 "the datadir was written to")
                self.assertFalse(os.path.exists(datadir + ".pitr"))
            finally:
                with open(path, "wb") as f:
                    f.write(original)
        self.run_step(step)

    def test_3_after_a_sigkill_failover_the_archive_has_no_gap(self):
        c = self.c

        def step():
            old = c.primary()
            replica = next(n for n in c.nodes if n is not old)
            old.sql("CREATE TABLE f (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            first = write_rows(old, "f", range(1, 6), gap=0.2)
            c.wait_row(replica, "f", 5)
            epoch_before = backup_list(old)["archive"]["epoch"]
            old.crash()
            new = wait_for("the replica to take over",
                           lambda: c.primary() if c.primary() is replica else None, timeout=90)
            wait_for("it to be writable", lambda: not new.read_only(), timeout=30)
            second = write_rows(new, "f", range(6, 11), gap=0.2)
            gtid, _ = drop_at_a_fresh_second(new, "DROP TABLE f", max(second.values()))
            new.sql("CREATE TABLE f2 (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            wait_archived(self.consul, "mysql", gtid)
            listed = backup_list(new)["archive"]
            self.assertEqual(listed["gaps"], [])
            self.assertGreater(listed["epoch"], epoch_before)
            self.assertTrue(listed["windows"], listed)
            # From the first snapshot only: the replay crosses both primaries' terms.
            store = c.storage_dir
            keep_only_the_first_snapshot(os.listdir(store),
                                         lambda n: os.remove(os.path.join(store, n)))
            out = new.manage("backup", "restore", "--to-gtid", gtid, "--datadir",
                             os.path.join(self.base, "across"), timeout=600)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertGreaterEqual(restored_transactions(out.stderr), 12)
            with restored_server(os.path.join(self.base, "across")) as sql:
                self.assertEqual(table_ids(sql, "f"), sorted(list(first) + list(second)))
                self.assertIsNone(table_ids(sql, "f2"))
        self.run_step(step)

    def test_4_a_gap_is_reported_and_closed_from_a_node_that_has_the_events(self):
        c = self.c

        def step():
            primary = c.primary()
            primary.sql("CREATE TABLE g (id INT PRIMARY KEY, ts DATETIME)", "appdb")
            for i in range(1, 4):
                write_rows(primary, "g", [i], gap=0)
                wait_archived(self.consul, "mysql", primary.sql("SELECT @@gtid_binlog_pos")[0][0])
            # A segment lost from the store (say, deleted by hand): the archive
            # now has a hole that only a binlog can fill.
            tails = sorted((n for n in os.listdir(self.archive_dir) if n.split("_")[1] == "t"),
                           key=lambda n: gtid_seqno(n.split("_")[4]))
            os.remove(os.path.join(self.archive_dir, tails[-2]))
            gaps = backup_list(primary)["archive"]["gaps"]
            self.assertEqual(len(gaps), 1, gaps)
            out = primary.manage("archive", "fill", timeout=300)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("binlog archive gap closed", out.stderr)
            self.assertEqual(backup_list(primary)["archive"]["gaps"], [])
            fills = [n for n in os.listdir(self.archive_dir) if n.split("_")[1] == "f"]
            self.assertEqual(len(fills), 1, fills)
        self.run_step(step)


if __name__ == "__main__":
    unittest.main()
