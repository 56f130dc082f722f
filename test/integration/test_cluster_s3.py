"""A cluster whose only snapshot store is S3 (the S3 test world: s3rver behind a
front that verifies every signature with botocore). No folder is shared:
each node has its own datadir, state and tmpdir, and STORAGE_DIR names a
directory that must never come to exist. The first three nodes use only the
original manage.py's variables (SNAPSHOT_BACKEND=minio, MINIO_*); the fourth,
added later, only AWS's (SNAPSHOT_BACKEND=s3, AWS_*), and provisions itself
from the bucket. The tests run in order and build on each other.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_case import ClusterCase  # noqa: E402
from harness import wait_for  # noqa: E402
from s3world import S3World  # noqa: E402

FIRST_INDEX = 80  # 127.0.x.81-84: not used by the other integration tests


class S3ClusterTest(ClusterCase):
    base_prefix = "manage-it-s3-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = cls.started(S3World(cls.base))
        cls.unshared = os.path.join(cls.base, "no-shared-folder")
        # Only the original's variables: any AWS_* of the caller's environment
        # would take precedence over them, so they are blanked.
        env = {k: "" for k in os.environ if k.startswith("AWS_")}
        env.update(cls.world.env(variables="minio"))
        env["STORAGE_DIR"] = cls.unshared
        cls.c = cls.new_cluster("mysql", first_index=FIRST_INDEX, extra_env=env)

    def test_1_three_nodes_bootstrap_with_s3(self):
        c = self.c
        nodes = c.start(3)

        def step():
            c.wait_healthy(nodes, timeout=180)
            primary = wait_for("a primary", c.primary, timeout=30)
            primary.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))", "appdb")
            primary.sql("INSERT INTO t VALUES (1, 'hello')", "appdb")
            for r in (n for n in nodes if n is not primary):
                wait_for(f"{r.name} to be a replica", lambda: r.state("role") == "replica",
                         timeout=60)
                c.wait_row(r, "t", 1)
            wait_for("the first snapshot", lambda: c.consul.kv("mysql-last-backup")[0],
                     timeout=180)
            # It is in the bucket, as any S3 client sees it.
            stored = self.world.keys()
            self.assertTrue(stored, "the bucket is empty")
            self.assertTrue(all(size > 0 for size in stored.values()), stored)
            self.assertFalse(os.path.exists(self.unshared))
        self.run_step(step)

    def test_2_a_node_added_later_provisions_from_the_bucket(self):
        c = self.c
        primary = c.primary()
        primary.sql("INSERT INTO t VALUES (2, 'before n4')", "appdb")
        n4 = c.add()
        n4.extra_env = {k: "" for k in self.world.env(variables="minio")}
        n4.extra_env.update(self.world.env(variables="aws"))
        n4.start()

        def step():
            self.check_provisioned_from_snapshot(c, n4, primary)
            self.assertFalse(os.path.exists(self.unshared))
            # Credentials never reach a log.
            for n in c.nodes:
                self.assertNotIn(S3World.SECRET_KEY, n.log())
        self.run_step(step)


if __name__ == "__main__":
    unittest.main()
