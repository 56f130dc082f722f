"""The frame every integration test class shares: one base directory, one
Consul, the stores or doubles the class needs, and its clusters, made once per
class and taken down after it, in reverse order, even when setUpClass itself
fails half-way (unittest runs class cleanups then too). KEEP_TEST_DIRS keeps
the directory for a post-mortem.
"""

import os
import shutil
import sys
import unittest

from harness import Cluster, Consul, make_base_dir


class ClusterCase(unittest.TestCase):
    base_prefix = "manage-it-"

    @classmethod
    def setUpClass(cls):
        cls.base = make_base_dir(cls.base_prefix)
        cls.addClassCleanup(cls._remove_base)
        cls.clusters = []
        cls.consul = cls.started(Consul(cls.base))

    @classmethod
    def _remove_base(cls):
        if os.environ.get("KEEP_TEST_DIRS"):
            print(f"test directories kept in {cls.base}", file=sys.stderr)
        else:
            shutil.rmtree(cls.base, ignore_errors=True)

    @classmethod
    def started(cls, server):
        """Starts `server` (anything with start() and stop()); stopped after the class."""
        server.start()
        cls.addClassCleanup(server.stop)
        return server

    @classmethod
    def new_cluster(cls, service="mysql", *args, cluster_type=Cluster, **kwargs):
        """A cluster on the class's Consul; its nodes are stopped after the class."""
        c = cluster_type(cls.consul, cls.base, service, *args, **kwargs)
        cls.addClassCleanup(c.stop)
        cls.clusters.append(c)
        return c

    def check_provisioned_from_snapshot(self, cluster, node, primary, timeout=240):
        """`node`, added after rows 1 and 2 of table t, restored them from the
        store's snapshot, and replicates what the primary writes next (row 3)."""
        cluster.wait_healthy([node], timeout=timeout)
        self.assertEqual(node.state("origin"), "snapshot")
        self.assertEqual(node.state("role"), "replica")
        self.assertTrue(node.read_only())
        cluster.wait_row(node, "t", 1)
        cluster.wait_row(node, "t", 2)
        primary.sql(f"INSERT INTO t VALUES (3, 'after {node.name}')", "appdb")
        cluster.wait_row(node, "t", 3)

    def extra_logs(self):
        """What else a failing step shows besides the clusters' logs."""
        return ""

    def run_step(self, step, *clusters):
        """Runs `step`; a timeout or a failed check fails the test with the logs of
        `clusters` (every cluster of the class when none is named)."""
        try:
            step()
        except (TimeoutError, AssertionError, RuntimeError) as e:
            logs = [c.dump_logs() for c in (clusters or self.clusters)]
            extra = self.extra_logs()
            self.fail("\n".join([str(e)] + logs + ([extra] if extra else [])))
