#!/usr/bin/env python3
"""Behaviour of consul_double.py beyond the recorded transcript.

Each test starts a fresh double with --ttl-factor 0.1, so a 10s TTL lasts
1 s and a 10s session TTL invalidates after 2 s. Run from the repository
root with:  python3 test/doubles/test_consul_double.py
or:         python3 -m unittest discover -s test/doubles -p 'test_consul*'
"""

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

DOUBLE = Path(__file__).resolve().parent / "consul_double.py"
FACTOR = 0.1


def start_double(*extra):
    proc = subprocess.Popen(
        [sys.executable, str(DOUBLE), "--port", "0", "--quiet",
         "--ttl-factor", str(FACTOR), *extra], stdout=subprocess.PIPE,
        text=True)
    match = re.search(r"listening on http://([\d.]+):(\d+)",
                      proc.stdout.readline())
    if match is None:
        proc.kill()
        raise RuntimeError("consul_double.py did not start")
    return proc, match.group(1), int(match.group(2))


def poll(predicate, timeout, interval=0.05):
    """Calls predicate until it returns something true or timeout passes;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class ConsulDoubleTest(unittest.TestCase):
    """Base: a fresh double per test and small HTTP helpers."""

    def setUp(self):
        self.proc, self.host, self.port = start_double()

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def call(self, method, path, body=None, headers=None):
        """(status, headers dict, body text)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            data = body if body is None or isinstance(body, bytes) else (
                body if isinstance(body, str) else json.dumps(body)).encode()
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode()
        finally:
            conn.close()

    def ok(self, method, path, body=None):
        status, _, text = self.call(method, path, body)
        self.assertEqual(status, 200, text)
        return json.loads(text) if text else None

    def register(self, service_id, status="passing", ttl="10s", name="web"):
        self.ok("PUT", "/v1/agent/service/register",
                {"ID": service_id, "Name": name, "Port": 3306,
                 "Address": "127.0.0.2",
                 "Check": {"TTL": ttl, "Status": status}, "Checks": None})

    def session(self, **fields):
        fields.setdefault("TTL", "10s")
        return self.ok("PUT", "/v1/session/create", fields)["ID"]

    def session_exists(self, session_id):
        return bool(self.ok("GET", "/v1/session/info/" + session_id))

    def acquire(self, key, session_id, value="v"):
        return self.ok("PUT", "/v1/kv/%s?acquire=%s" % (key, session_id),
                       value)

    def kv(self, key):
        status, _, text = self.call("GET", "/v1/kv/" + key)
        return json.loads(text)[0] if status == 200 else None

    def checks(self, service="web", query=""):
        entries = self.ok("GET", "/v1/health/service/%s%s" % (service, query))
        return {c["CheckID"]: c for e in entries for c in e["Checks"]}


class CheckTest(ConsulDoubleTest):
    def test_ttl_check_turns_critical_after_its_ttl(self):
        self.register("web-1")
        self.ok("PUT", "/v1/agent/check/update/service:web-1",
                {"Status": "passing", "Output": "ok"})
        updated = time.monotonic()
        time.sleep(0.5)
        passing = self.ok("GET", "/v1/health/service/web?passing=1")
        self.assertEqual(len(passing), 1)
        check = poll(lambda: self.checks()["service:web-1"]["Status"] ==
                     "critical", timeout=3)
        self.assertTrue(check, "TTL check never expired")
        self.assertGreaterEqual(time.monotonic() - updated, 0.95)
        self.assertEqual(self.checks()["service:web-1"]["Output"],
                         "TTL expired (last output before timeout follows): "
                         "ok")
        self.assertEqual(self.ok("GET", "/v1/health/service/web?passing=1"),
                         [])

    def test_heartbeats_keep_a_ttl_check_passing(self):
        self.register("web-1")
        for _ in range(5):  # 2 s in all, twice the 1 s TTL
            self.ok("PUT", "/v1/agent/check/pass/service:web-1?note=beat")
            time.sleep(0.4)
        self.assertEqual(self.checks()["service:web-1"]["Status"], "passing")

    def test_output_alone_reaches_the_catalog_later_status_at_once(self):
        self.register("web-1", status="critical")
        self.ok("PUT", "/v1/agent/check/pass/service:web-1?note=first")
        self.ok("PUT", "/v1/agent/check/pass/service:web-1?note=second")
        self.assertEqual(self.checks()["service:web-1"]["Output"], "first")
        self.ok("PUT", "/v1/agent/check/warn/service:web-1?note=third")
        check = self.checks()["service:web-1"]
        self.assertEqual((check["Status"], check["Output"]),
                         ("warning", "third"))

    def test_reregistration_keeps_the_check_state(self):
        self.register("web-1", status="critical")
        self.ok("PUT", "/v1/agent/check/pass/service:web-1?note=ok")
        self.register("web-1", status="critical")
        self.assertEqual(self.checks()["service:web-1"]["Status"], "passing")

    def test_update_of_unknown_check_is_an_error(self):
        status, _, text = self.call("PUT", "/v1/agent/check/pass/service:x")
        self.assertEqual((status, text),
                         (500, 'CheckID "service:x" does not have associated '
                               'TTL'))

    def test_passing_filter_drops_warning_and_critical_instances(self):
        for service_id, verb in (("web-1", "pass"), ("web-2", "warn"),
                                 ("web-3", "fail")):
            self.register(service_id, status="critical")
            self.ok("PUT", "/v1/agent/check/%s/service:%s" % (verb,
                                                              service_id))

        def ids(query):
            return [e["Service"]["ID"] for e in self.ok(
                "GET", "/v1/health/service/web" + query)]

        self.assertEqual(ids("?passing=1"), ["web-1"])
        self.assertEqual(ids("?passing"), ["web-1"])
        self.assertEqual(ids("?passing=false"), ["web-1", "web-2", "web-3"])
        self.assertEqual(ids(""), ["web-1", "web-2", "web-3"])
        status, _, _ = self.call("GET", "/v1/health/service/web?passing=x")
        self.assertEqual(status, 400)


class SessionTest(ConsulDoubleTest):
    def test_ttl_invalidation_releases_the_lock_then_lock_delay_lifts(self):
        holder = self.session(LockDelay="10s")  # 1 s at factor 0.1
        created = time.monotonic()
        self.assertTrue(self.acquire("leader", holder, "node-1"))
        time.sleep(1.3)  # past the TTL, short of 2 x TTL
        self.assertTrue(self.session_exists(holder))
        gone = poll(lambda: not self.session_exists(holder), timeout=2)
        self.assertTrue(gone, "session outlived 2 x TTL")
        invalidated = time.monotonic()
        self.assertGreaterEqual(invalidated - created, 1.9)
        entry = self.kv("leader")
        self.assertNotIn("Session", entry)
        self.assertEqual((entry["LockIndex"], entry["Value"]),
                         (1, "bm9kZS0x"))
        rival = self.session()
        self.assertFalse(self.acquire("leader", rival))
        self.assertTrue(poll(lambda: self.acquire("leader", rival),
                             timeout=2), "lock-delay never lifted")
        self.assertGreaterEqual(time.monotonic() - invalidated, 0.8)
        self.assertEqual(self.kv("leader")["LockIndex"], 2)

    def test_renewal_postpones_invalidation(self):
        session_id = self.session()
        start = time.monotonic()
        time.sleep(1.2)
        self.ok("PUT", "/v1/session/renew/" + session_id)
        time.sleep(1.3)  # 2.5 s after creation: alive only thanks to renew
        self.assertTrue(self.session_exists(session_id))
        self.assertTrue(poll(lambda: not self.session_exists(session_id),
                             timeout=2))
        self.assertGreaterEqual(time.monotonic() - start, 3.1)

    def test_session_tied_to_a_check_dies_when_the_check_fails(self):
        self.register("web-1")
        tied = self.session(LockDelay="0s",
                            Checks=["serfHealth", "service:web-1"])
        self.assertTrue(self.acquire("leader", tied))
        self.ok("PUT", "/v1/agent/check/fail/service:web-1")
        self.assertFalse(self.session_exists(tied))
        self.assertNotIn("Session", self.kv("leader"))
        self.assertTrue(self.acquire("leader", self.session()))

    def test_session_tied_to_a_check_dies_when_the_ttl_runs_out(self):
        self.register("web-1")  # check TTL 1 s; session TTL far longer
        tied = self.session(TTL="100s", Checks=["serfHealth",
                                                "service:web-1"])
        self.assertTrue(self.session_exists(tied))
        self.assertTrue(poll(lambda: not self.session_exists(tied),
                             timeout=2))

    def test_session_tied_to_a_check_dies_on_deregistration(self):
        self.register("web-1")
        tied = self.session(LockDelay="0s",
                            Checks=["serfHealth", "service:web-1"])
        self.assertTrue(self.acquire("leader", tied))
        self.ok("PUT", "/v1/agent/service/deregister/web-1")
        self.assertFalse(self.session_exists(tied))
        self.assertNotIn("Session", self.kv("leader"))

    def test_service_checks_without_node_checks_tie_to_the_service_check_only(self):
        # What manage's primary session sends (codec.h, SessionCreateBody).
        self.register("web-1")
        tied = self.session(LockDelay="0s", NodeChecks=[],
                            ServiceChecks=[{"ID": "service:web-1"}])
        info = self.ok("GET", "/v1/session/info/" + tied)[0]
        self.assertEqual((info["NodeChecks"], info["ServiceChecks"]),
                         ([], [{"ID": "service:web-1", "Namespace": ""}]))
        self.assertNotIn("Checks", info)
        self.assertTrue(self.acquire("leader", tied))
        self.ok("PUT", "/v1/agent/check/fail/service:web-1")
        self.assertFalse(self.session_exists(tied))

    def test_create_fails_on_critical_or_unknown_check(self):
        self.register("web-1", status="critical")
        for check, text in (
                ("service:web-1", "Check 'service:web-1' is in critical "
                                  "state"),
                ("service:nope", "Missing check 'service:nope' "
                                 "registration")):
            status, _, body = self.call(
                "PUT", "/v1/session/create",
                {"TTL": "10s", "Checks": ["serfHealth", check]})
            self.assertEqual((status, body), (500, text))

    def test_behavior_delete_removes_the_key_release_keeps_it(self):
        for behavior, survives in (("delete", False), ("release", True)):
            session_id = self.session(Behavior=behavior, LockDelay="0s")
            key = "k-" + behavior
            self.assertTrue(self.acquire(key, session_id))
            self.ok("PUT", "/v1/session/destroy/" + session_id)
            self.assertEqual(self.kv(key) is not None, survives, behavior)

    def test_voluntary_release_starts_no_lock_delay(self):
        holder = self.session()  # default LockDelay 15s
        self.assertTrue(self.acquire("leader", holder))
        self.assertTrue(self.ok("PUT", "/v1/kv/leader?release=" + holder))
        self.assertTrue(self.acquire("leader", self.session()))

    def test_acquire_with_unknown_session_is_an_error(self):
        status, _, text = self.call("PUT", "/v1/kv/leader?acquire=nope", "x")
        self.assertEqual((status, text), (500, 'invalid session "nope"'))

    def test_ttl_below_the_minimum_is_rejected(self):
        status, _, text = self.call("PUT", "/v1/session/create",
                                    {"TTL": "5s"})
        self.assertEqual((status, text),
                         (500, "Invalid Session TTL '5000000000', must be "
                               "between [10s=24h0m0s]"))


class KvTest(ConsulDoubleTest):
    def test_cas_zero_writes_only_an_absent_key(self):
        self.assertTrue(self.ok("PUT", "/v1/kv/k?cas=0", "a"))
        self.assertFalse(self.ok("PUT", "/v1/kv/k?cas=0", "b"))
        index = self.kv("k")["ModifyIndex"]
        self.assertTrue(self.ok("PUT", "/v1/kv/k?cas=%d" % index, "c"))
        self.assertFalse(self.ok("PUT", "/v1/kv/k?cas=%d" % index, "d"))
        self.assertEqual(self.kv("k")["Value"], "Yw==")
        self.assertFalse(self.ok("DELETE", "/v1/kv/k?cas=%d" % index))
        current = self.kv("k")["ModifyIndex"]
        self.assertTrue(self.ok("DELETE", "/v1/kv/k?cas=%d" % current))
        self.assertIsNone(self.kv("k"))

    def test_blocking_query_returns_when_the_key_changes(self):
        self.ok("PUT", "/v1/kv/k", "old")
        _, headers, _ = self.call("GET", "/v1/kv/k")
        index = int(headers["X-Consul-Index"])
        answer = {}
        waiter = threading.Thread(target=lambda: answer.update(
            result=self.call("GET", "/v1/kv/k?index=%d&wait=5s" % index)))
        waiter.start()
        time.sleep(0.3)
        self.assertTrue(waiter.is_alive(), "query did not block")
        self.ok("PUT", "/v1/kv/k", "new")
        waiter.join(timeout=2)
        self.assertFalse(waiter.is_alive(), "query did not wake up")
        status, headers, text = answer["result"]
        self.assertEqual(status, 200)
        self.assertGreater(int(headers["X-Consul-Index"]), index)
        self.assertEqual(json.loads(text)[0]["Value"], "bmV3")

    def test_blocking_query_ignores_other_keys_and_times_out(self):
        self.ok("PUT", "/v1/kv/k", "v")
        _, headers, _ = self.call("GET", "/v1/kv/k")
        index = headers["X-Consul-Index"]
        threading.Timer(0.1, lambda: self.ok("PUT", "/v1/kv/other", "x")) \
            .start()
        start = time.monotonic()
        _, headers, _ = self.call("GET", "/v1/kv/k?index=%s&wait=500ms"
                                  % index)
        self.assertGreaterEqual(time.monotonic() - start, 0.5)
        self.assertEqual(headers["X-Consul-Index"], index)

    def test_blocking_health_query_wakes_on_a_check_change(self):
        self.register("web-1")
        _, headers, _ = self.call("GET", "/v1/health/service/web?passing=1")
        index = headers["X-Consul-Index"]
        threading.Timer(0.2, lambda: self.ok(
            "PUT", "/v1/agent/check/fail/service:web-1")).start()
        start = time.monotonic()
        status, headers, text = self.call(
            "GET", "/v1/health/service/web?passing=1&index=%s&wait=5s"
            % index)
        self.assertLess(time.monotonic() - start, 2)
        self.assertGreater(int(headers["X-Consul-Index"]), int(index))
        self.assertEqual(json.loads(text), [])

    def test_recurse_keys_and_recursive_delete(self):
        for key in ("a/b", "a/c/d", "x"):
            self.ok("PUT", "/v1/kv/" + key, key)
        self.assertEqual([e["Key"] for e in self.ok(
            "GET", "/v1/kv/a/?recurse")], ["a/b", "a/c/d"])
        self.assertEqual(self.ok("GET", "/v1/kv/a/?keys&separator=/"),
                         ["a/b", "a/c/"])
        self.assertTrue(self.ok("DELETE", "/v1/kv/a/?recurse"))
        status, _, _ = self.call("GET", "/v1/kv/a/?recurse")
        self.assertEqual(status, 404)
        self.assertIsNotNone(self.kv("x"))

    def test_writes_move_the_index_and_tokens_are_ignored(self):
        token = {"X-Consul-Token": "anything"}
        status, _, _ = self.call("PUT", "/v1/kv/k", "1", token)
        self.assertEqual(status, 200)
        _, first, _ = self.call("GET", "/v1/kv/k", headers=token)
        self.call("PUT", "/v1/kv/k", "2", token)
        _, second, _ = self.call("GET", "/v1/kv/k", headers=token)
        self.assertGreater(int(second["X-Consul-Index"]),
                           int(first["X-Consul-Index"]))


class TxnTest(ConsulDoubleTest):
    """consul: agent/txn_endpoint.go and state/txn.go."""

    def txn(self, *ops):
        status, _, text = self.call("PUT", "/v1/txn", [{"KV": op} for op in ops])
        return status, json.loads(text)

    def test_checks_and_writes_apply_together(self):
        holder = self.session(LockDelay="0s")
        self.assertTrue(self.acquire("primary", holder))
        self.ok("PUT", "/v1/kv/record", "old")
        index = self.kv("record")["ModifyIndex"]
        status, body = self.txn(
            {"Verb": "check-session", "Key": "primary", "Session": holder},
            {"Verb": "cas", "Key": "record", "Value": "bmV3", "Index": index},
            {"Verb": "set", "Key": "binlog", "Value": "YmluLjI="})
        self.assertEqual(status, 200, body)
        self.assertIsNone(body["Errors"])
        self.assertEqual([r["KV"]["Key"] for r in body["Results"]],
                         ["primary", "record", "binlog"])
        self.assertTrue(all(r["KV"]["Value"] is None for r in body["Results"]))
        self.assertEqual(self.kv("record")["Value"], "bmV3")
        self.assertEqual(self.kv("binlog")["Value"], "YmluLjI=")

    def test_a_failed_check_rolls_everything_back_and_names_each_failure(self):
        holder = self.session(LockDelay="0s")
        self.assertTrue(self.acquire("primary", holder))
        self.ok("PUT", "/v1/kv/record", "old")
        status, body = self.txn(
            {"Verb": "set", "Key": "binlog", "Value": "YQ=="},
            {"Verb": "check-session", "Key": "primary", "Session": "other"},
            {"Verb": "cas", "Key": "record", "Value": "YQ==", "Index": 1},
            {"Verb": "check-session", "Key": "missing", "Session": holder})
        self.assertEqual(status, 409)
        self.assertIsNone(body["Results"])
        self.assertEqual(body["Errors"], [
            {"OpIndex": 1, "What": 'failed session check for key "primary", '
                                   'current session "%s" != "other"' % holder},
            {"OpIndex": 2, "What": 'failed to set key "record", index is stale'},
            {"OpIndex": 3, "What": 'failed to check session, key "missing" '
                                   "doesn't exist"}])
        self.assertIsNone(self.kv("binlog"))
        self.assertEqual(self.kv("record")["Value"], "b2xk")

    def test_bad_bodies_are_refused(self):
        status, _, text = self.call("PUT", "/v1/txn", b"{not json")
        self.assertEqual(status, 400)
        self.assertTrue(text.startswith("Failed to parse body"), text)
        status, _, text = self.call("PUT", "/v1/txn", [{"KV": {"Verb": "set", "Key": "k"}}] * 65)
        self.assertEqual((status, text),
                         (413, "Transaction contains too many operations (65 > 64)"))


class LeaderTest(ConsulDoubleTest):
    """SIGUSR1: the server loses its leader (an election); SIGUSR2: a leader again."""

    HOLD = 7.0 * FACTOR  # rpc_hold_timeout, scaled

    def leaderless(self):
        self.proc.send_signal(signal.SIGUSR1)
        self.assertTrue(poll(lambda: self.ok("GET", "/v1/status/leader") == "", 2))

    def elected(self):
        self.proc.send_signal(signal.SIGUSR2)
        self.assertTrue(poll(lambda: self.ok("GET", "/v1/status/leader") != "", 2))

    def test_requests_needing_the_leader_are_held_then_refused(self):
        self.ok("PUT", "/v1/kv/k", "v")
        self.leaderless()
        for method, path in (("GET", "/v1/kv/k"), ("PUT", "/v1/kv/k"),
                             ("PUT", "/v1/session/create"),
                             ("GET", "/v1/health/service/web?passing=1")):
            with self.subTest(path=path):
                start = time.monotonic()
                status, _, text = self.call(method, path, "x" if method == "PUT" else None)
                self.assertEqual((status, text), (500, "No cluster leader"))
                self.assertGreaterEqual(time.monotonic() - start, self.HOLD * 0.9)

    def test_a_held_request_goes_through_when_a_leader_is_elected(self):
        self.ok("PUT", "/v1/kv/k", "v")
        self.leaderless()
        threading.Timer(self.HOLD / 3, lambda: self.proc.send_signal(signal.SIGUSR2)).start()
        status, _, text = self.call("GET", "/v1/kv/k?raw")
        self.assertEqual((status, text), (200, "v"))

    def test_the_agent_answers_heartbeats_and_syncs_them_once_there_is_a_leader(self):
        self.register("web1", status="passing", ttl="10s")  # 1 s at FACTOR
        session = self.ok("PUT", "/v1/session/create",
                          {"TTL": "10s", "LockDelay": "0s",
                           "Checks": ["serfHealth", "service:web1"]})["ID"]
        self.assertTrue(self.ok("PUT", "/v1/kv/lock?acquire=" + session, "x"))
        self.leaderless()
        # Heartbeats land: nothing changes, well past the check TTL and 2 x TTL.
        for _ in range(25):
            self.ok("PUT", "/v1/agent/check/update/service:web1",
                    {"Status": "passing", "Output": "ok"})
            time.sleep(0.1)
        self.elected()
        self.assertEqual(self.ok("PUT", "/v1/session/renew/" + session)[0]["ID"], session)
        # Without heartbeats the check turns critical on the agent, but the
        # session lives on until a leader syncs it.
        self.leaderless()
        time.sleep(1.5)
        self.elected()
        self.assertTrue(poll(lambda: self.call("GET", "/v1/kv/lock")[2].find(session) < 0, 2))
        status, _, _ = self.call("PUT", "/v1/session/renew/" + session)
        self.assertEqual(status, 404)

    def test_session_timers_stop_without_a_leader_and_start_again_in_full(self):
        session = self.ok("PUT", "/v1/session/create", {"TTL": "10s"})["ID"]  # 2 s at FACTOR
        self.leaderless()
        time.sleep(2.5)
        self.elected()
        time.sleep(1.0)  # half of a full 2 x TTL from the election
        self.assertEqual(self.ok("PUT", "/v1/session/renew/" + session)[0]["ID"], session)


class ProcessTest(unittest.TestCase):
    def test_sigterm_and_sigint_stop_it_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc, _, _ = start_double()
            proc.send_signal(sig)
            self.assertEqual(proc.wait(timeout=5), 0, sig)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
