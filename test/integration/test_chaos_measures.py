"""Unit test: how chaos.py reads its probe samples (no servers)."""

import os
import sys
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos  # noqa: E402
from chaos import MISSING, READ_ONLY, UNKNOWN, WRITABLE, Sample, Write  # noqa: E402

TICK = chaos.PROBE_INTERVAL


def prober(answers, offset=0.0, took=0.002):
    """A node probed every tick from `offset`: answers[i] at offset + i * TICK."""
    samples = [Sample(offset + i * TICK, offset + i * TICK + took, value)
               for i, value in enumerate(answers)]
    return SimpleNamespace(samples=samples)


def measure(probers):
    return chaos.overlaps(probers, 0.0, 0.0, 100.0)


class OverlapsTest(unittest.TestCase):
    def test_a_hand_over_inside_one_tick_is_no_overlap(self):
        # a fences between its answers at 0.300 and 0.400; b is writable from
        # its answer at 0.330 on: both answered read_only=0 in tick 3.
        a = prober([WRITABLE] * 4 + [READ_ONLY] * 6)
        b = prober([READ_ONLY] * 3 + [WRITABLE] * 7, offset=0.03)
        self.assertEqual(measure({"a": a, "b": b}), (0, 0, []))

    def test_an_answer_between_two_writable_answers_of_another_node_is_one(self):
        a = prober([WRITABLE] * 10)
        b = prober([UNKNOWN] * 4 + [WRITABLE] + [READ_ONLY] * 5, offset=0.05)
        count, longest, evidence = measure({"a": a, "b": b})
        self.assertEqual((count, longest), (1, 100))
        self.assertEqual(len(evidence), 1)
        self.assertIn("b read_only=0 at +0.450..0.452 s while a answered read_only=0", evidence[0])

    def test_a_long_overlap_counts_every_tick(self):
        a = prober([WRITABLE] * 10)
        b = prober([READ_ONLY] * 2 + [WRITABLE] * 5 + [READ_ONLY] * 3, offset=0.05)
        count, longest, _ = measure({"a": a, "b": b})
        # b's five answers (ticks 2..6) each fall between two of a's; a's
        # answers in ticks 3..6 fall between b's, ticks already counted.
        self.assertEqual((count, longest), (5, 500))

    def test_answers_too_far_apart_prove_nothing(self):
        # a's prober stalled for a second between two read_only=0 answers.
        a = SimpleNamespace(samples=[Sample(0.0, 0.002, WRITABLE), Sample(1.0, 1.002, WRITABLE)])
        b = prober([WRITABLE], offset=0.5)
        self.assertEqual(measure({"a": a, "b": b})[0], 0)

    def test_a_slow_answer_straddling_the_other_nodes_answer_proves_nothing(self):
        a = prober([WRITABLE] * 3)
        # Asked after a's first answer, but answered after a's second was
        # asked: b may have been read when a no longer was writable.
        b = SimpleNamespace(samples=[Sample(0.05, 0.15, WRITABLE)])
        self.assertEqual(measure({"a": a, "b": b})[0], 0)



class AcksWithoutLockTest(unittest.TestCase):
    # Consul says: a holds PRIMARY_KEY until 1.0 s, then nobody (UNKNOWN once),
    # then b from 2.0 s.
    HOLDER = [Sample(i * TICK, i * TICK + 0.001,
                     "a" if i < 10 else UNKNOWN if i == 15 else None if i < 20 else "b")
              for i in range(40)]

    def classify(self, node, t_send, t_ack):
        w = Write(1, node, t_send, t_ack, True)
        return (len(chaos.acks_without_lock([w], self.HOLDER)),
                len(chaos.late_acks([w], self.HOLDER)))

    def test_by_when_it_was_sent_and_answered(self):
        rows = [
            ("sent and answered while a held the lock", "a", 0.305, 0.306, (0, 0)),
            ("sent to a, frozen, answered while b holds it", "a", 0.905, 3.005, (0, 1)),
            ("sent to a after it lost the lock", "a", 1.205, 1.206, (1, 0)),
            ("sent to a once b holds the lock", "a", 2.505, 2.506, (1, 0)),
            ("sent to b once it holds the lock", "b", 2.505, 2.506, (0, 0)),
            ("after the last Consul answer: unknown", "a", 3.95, 3.96, (0, 0)),
        ]
        for what, node, t_send, t_ack, expected in rows:
            with self.subTest(what):
                self.assertEqual(self.classify(node, t_send, t_ack), expected)

    def test_a_write_that_failed_never_counts(self):
        w = Write(1, "a", 2.505, 2.506, False)
        self.assertEqual(chaos.acks_without_lock([w], self.HOLDER), [])


class ReportTest(unittest.TestCase):
    def test_an_overlap_fails_the_run_whatever_the_kind_freezes_included(self):
        for kind in chaos.FAULTS:
            with self.subTest(kind):
                r = chaos.Round(1, kind, old="a", rejoined=True, overlaps=1,
                                overlap_evidence=["b read_only=0 ..."])
                report = chaos.Report(seed=1, planned=1, rounds=[r], lost=0)
                self.assertIn(f"round 1 ({kind}): 1 writable overlaps", report.problems())

    def test_a_failover_or_a_fence_the_kind_forbids_fails_the_run(self):
        rounds = [chaos.Round(1, "consul-reset", old="a", rejoined=True, failover=True),
                  chaos.Round(2, "noleader-short", old="a", rejoined=True, old_fenced=True),
                  chaos.Round(3, "noleader-long", old="a", rejoined=True, failover=True,
                              old_fenced=True)]
        problems = chaos.Report(seed=1, planned=3, rounds=rounds, lost=0).problems()
        self.assertEqual(problems, [
            "round 1 (consul-reset): a failover, which this fault must not cause",
            "round 2 (noleader-short): a was fenced"])

    def test_the_table_has_a_row_per_kind_that_ran(self):
        rounds = [chaos.Round(i, kind, old="a", rejoined=True)
                  for i, kind in enumerate(["lag", "kill", "lag", "errant"], 1)]
        table = chaos.Report(seed=1, planned=4, rounds=rounds, lost=0).table()
        kinds = [line.split()[0] for line in table.splitlines()[1:]]
        self.assertEqual(kinds, ["kill", "errant", "lag", "total"])


class FencedAfterResumeTest(unittest.TestCase):
    def test_from_sigcont_to_the_first_read_only_answer(self):
        # Thawed at 1.0: refused (UNKNOWN) while its lease is out, then read_only=1.
        samples = [Sample(0.95, 1.01, UNKNOWN), Sample(1.05, 1.06, UNKNOWN),
                   Sample(1.15, 1.16, READ_ONLY)]
        self.assertAlmostEqual(chaos.fenced_after_resume(samples, 1.0, 9.0), 160, places=3)

    def test_after_its_last_read_only_0_answer(self):
        samples = [Sample(1.05, 1.06, WRITABLE), Sample(1.15, 1.16, READ_ONLY)]
        self.assertAlmostEqual(chaos.fenced_after_resume(samples, 1.0, 9.0), 160, places=3)
        self.assertIsNone(chaos.fenced_after_resume([Sample(1.05, 1.06, UNKNOWN)], 1.0, 9.0))


class LockLostTest(unittest.TestCase):
    """Consul restarted without its state: the key is missing for a while."""

    def holder(self, values):
        return [Sample(i * 1.0, i * 1.0 + 0.01, v) for i, v in enumerate(values)]

    def test_the_last_primary_acknowledging_while_the_key_is_missing_counts_apart(self):
        samples = self.holder(["a", UNKNOWN, MISSING, MISSING, "a", "a"])
        writes = [Write(1, "a", 2.2, 2.3, True), Write(2, "a", 4.5, 4.6, True),
                  Write(3, "b", 2.5, 2.6, True)]
        self.assertEqual([w.id for w in chaos.acks_without_lock(writes, samples)], [3])
        self.assertEqual([w.id for w in chaos.acks_while_lock_lost(writes, samples)], [1])

    def test_another_holder_after_the_loss_still_counts(self):
        samples = self.holder(["a", MISSING, "b", "b"])
        writes = [Write(1, "a", 2.5, 2.6, True)]
        self.assertEqual([w.id for w in chaos.acks_without_lock(writes, samples)], [1])
        self.assertEqual(chaos.acks_while_lock_lost(writes, samples), [])


class RoundMeasuresTest(unittest.TestCase):
    def test_write_outage_is_the_longest_gap_between_acknowledgements(self):
        writes = [Write(i, "a", t - 0.01, t, acked) for i, (t, acked) in enumerate(
            [(0.5, True), (1.0, True), (1.2, False), (4.0, True), (4.5, True), (9.0, True)])]
        self.assertAlmostEqual(chaos.write_outage(writes, 0.0, 5.0), 3.0)
        self.assertAlmostEqual(chaos.write_outage(writes, 4.2, 6.0), 1.5)
        self.assertAlmostEqual(chaos.write_outage([], 1.0, 3.0), 2.0)

    def test_writable_again_is_zero_while_the_old_primary_never_stops(self):
        probers = {"a": prober([WRITABLE] * 10), "b": prober([READ_ONLY] * 10, 0.05)}
        self.assertEqual(chaos.writable_again(probers, "a", 0.0, 1.0), 0.0)

    def test_writable_again_counts_from_the_fault_to_the_next_writable_answer(self):
        # a fenced at its answer at 0.3, writable again from 0.7.
        probers = {"a": prober([WRITABLE] * 3 + [READ_ONLY] * 4 + [WRITABLE] * 3),
                   "b": prober([READ_ONLY] * 10, 0.05)}
        self.assertAlmostEqual(chaos.writable_again(probers, "a", 0.0, 1.0), 0.702)
        # or another node promoted meanwhile
        probers["b"] = prober([READ_ONLY] * 5 + [WRITABLE] * 5, 0.05)
        self.assertAlmostEqual(chaos.writable_again(probers, "a", 0.0, 1.0), 0.552)
        self.assertIsNone(chaos.writable_again(
            {"a": prober([WRITABLE, READ_ONLY, READ_ONLY])}, "a", 0.0, 1.0))
        # converged between two probes: the next answer counts
        fenced_then_back = {"a": prober([WRITABLE, READ_ONLY, WRITABLE])}
        self.assertIsNone(chaos.writable_again(fenced_then_back, "a", 0.0, 0.15))
        self.assertAlmostEqual(chaos.writable_again(fenced_then_back, "a", 0.0, 0.15, 1.0), 0.202)

    def test_each_kind_expects_its_old_primary_back_in_a_role(self):
        rows = [(True, False, "replica", True), (True, True, "primary", False),
                (False, True, "primary", True), (False, False, "replica", False),
                (None, True, "primary", True), (None, False, "replica", True),
                (None, False, "", False)]
        for failover, is_primary, role, want in rows:
            with self.subTest(failover=failover, is_primary=is_primary, role=role):
                self.assertEqual(chaos.back_as_expected(failover, is_primary, role), want)

    def test_every_kind_is_a_fault_of_the_chaos_run(self):
        self.assertEqual(list(chaos.FAULTS), ["kill", "term", "stop", "errant", "lag", "cutoff",
                                              "consul-reset", "noleader-short", "noleader-long"])
        for name, fault in chaos.FAULTS.items():
            with self.subTest(name):
                self.assertIs(getattr(chaos.Chaos, fault.apply.__name__), fault.apply)


if __name__ == "__main__":
    unittest.main(verbosity=2)
