#!/usr/bin/env python3
"""Replays the recorded Consul API transcript and compares every answer.

Usage: replay_transcript.py [--transcript FILE] [--addr URL | --double]

The transcript (shared/reference/consul-api-transcript.md, recorded from a
real Consul 1.9 dev agent) is a list of numbered steps: a request, and the
answer Consul gave. Each step is sent, in order, to the Consul at --addr
(default: $CONSUL_HTTP_ADDR; with neither, or with --double, a fresh
consul_double.py on a free port, stopped afterwards). Sessions the transcript
only mentions in a note ("S1=<id> created like the request above") are
created when the note is reached.

Comparison. The status code must be equal. Every header the recording shows
must be present with the same value (Date, Content-Length and
Transfer-Encoding excepted); Content-Type and the X-Consul-* query headers
must also be absent when the recording has none. The body must be equal
byte for byte after these values, which differ from run to run, are mapped:

  * UUIDs (session IDs, the node ID): each recorded UUID stands for one live
    UUID and no two recorded UUIDs for the same one. Recorded UUIDs in a
    request are replaced by their live counterparts; one never seen in an
    answer (00000000-...) is sent as it is.
  * Node names (any "Node": "<string>"): a one-to-one mapping as well.
  * Raft indexes (CreateIndex, ModifyIndex, X-Consul-Index): a recorded
    index may stand for a different live one, but the mapping must keep
    equality and order across the whole run: recorded a < b exactly when
    live f(a) < f(b). So "the release wrote at a later index than the
    acquire", "this read reports the index of that write" and "a failed
    acquire does not move the KV index" are all checked, while a live agent
    that applied extra raft entries of its own still passes. Against the
    double it starts itself, indexes must be equal outright: the double
    begins at the raft index the recording began at.

Trailing newlines of bodies are not compared: the transcript's code blocks
cannot show them (a dev agent ends every JSON answer with one).

Prints one line per step and, last, "N passed, M failed"; exits 1 on any
failure.
"""

import argparse
import difflib
import http.client
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
# A copy kept with the tests, so that they run from any checkout; the
# recording itself, when it sits beside the checkout, must match it.
DEFAULT_TRANSCRIPT = HERE / "consul-api-transcript.md"
RECORDING = REPO_ROOT.parent / "shared" / "reference" / "consul-api-transcript.md"
DOUBLE = HERE / "consul_double.py"

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}")
INDEX_KEYS = ("CreateIndex", "ModifyIndex")
IGNORED_HEADERS = {"date", "content-length", "transfer-encoding"}
# Headers whose presence, not only value, is part of the behaviour.
SIGNIFICANT_HEADERS = {"content-type", "x-consul-index",
                       "x-consul-knownleader", "x-consul-lastcontact",
                       "x-consul-effective-consistency"}
STEP_RE = re.compile(r"^### (\d+)\. (\S+) (\S+)\s*$")
NOTE_SESSION_RE = re.compile(r"\b(S\d+)=(" + UUID_RE.pattern + ")")


# --------------------------------------------------------------------------
# The transcript
# --------------------------------------------------------------------------

@dataclass
class Step:
    number: int
    method: str
    path: str
    request_body: str = None
    status: int = 0
    headers: list = field(default_factory=list)
    body: str = ""
    notes: str = ""  # prose after the answer, before the next step


def _fenced_blocks(lines):
    """Yields (info string, content lines, index of the opening fence,
    index after the closing fence) for each ``` block."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            yield lines[i][3:].strip(), lines[i + 1:end], i, end + 1
            i = end + 1
        else:
            i += 1


def _parse_step(number, method, path, lines):
    """A step is an optional "request body:" block, the ```http answer,
    then prose (the notes)."""
    step = Step(int(number), method, path)
    cursor = 0
    for info, block, begin, after in _fenced_blocks(lines):
        prose = [ln.strip() for ln in lines[cursor:begin] if ln.strip()]
        if info == "http":
            _parse_answer(step, block)
        elif prose[-1:] == ["request body:"]:
            step.request_body = "\n".join(block)
        cursor = after
    step.notes = "\n".join(lines[cursor:])
    return step


def _parse_answer(step, block):
    status_line = block[0].split(" ", 2)
    step.status = int(status_line[1])
    blank = block.index("") if "" in block else len(block)
    for line in block[1:blank]:
        name, _, value = line.partition(":")
        step.headers.append((name.strip(), value.strip()))
    step.body = "\n".join(block[blank + 1:])


def parse_transcript(text):
    lines = text.splitlines()
    starts = [(i, STEP_RE.match(line)) for i, line in enumerate(lines)
              if STEP_RE.match(line)]
    steps = []
    for n, (i, match) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        steps.append(_parse_step(*match.groups(), lines[i + 1:end]))
    return steps


def _json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def recorded_session(steps, session_id):
    """The recorded JSON of a session, from any answer that lists it."""
    for step in steps:
        answer = _json_or_none(step.body)
        for item in answer if isinstance(answer, list) else []:
            if isinstance(item, dict) and item.get("ID") == session_id \
                    and "Behavior" in item:
                return item
    return None


def note_sessions(step, steps, last_create_body):
    """(label, recorded ID, request body) for sessions a note creates.

    A session listed in some recorded answer is created with that answer's
    Name, TTL and Behavior (and its LockDelay, unless the note says the
    session has the default); otherwise "like the request above" repeats
    the last recorded session/create body.
    """
    found = []
    for label, recorded_id in NOTE_SESSION_RE.findall(step.notes):
        info = recorded_session(steps, recorded_id)
        if info is None:
            body = last_create_body
        else:
            fields = {k: info[k] for k in ("Name", "TTL", "Behavior")}
            if not re.search(r"\b%s has the default" % label, step.notes):
                fields["LockDelay"] = "%ds" % (info["LockDelay"] // 10 ** 9)
            body = json.dumps(fields, separators=(",", ":"))
        found.append((label, recorded_id, body))
    return found


# --------------------------------------------------------------------------
# Mapping recorded volatile values to live ones
# --------------------------------------------------------------------------

class Normaliser:
    """Learns recorded -> live mappings and checks they stay consistent.
    With exact_indexes, a live index must equal the recorded one."""

    def __init__(self, exact_indexes=False):
        self.uuids, self._live_uuids = {}, {}
        self.nodes, self._live_nodes = {}, {}
        self.indexes = {}
        self.exact_indexes = exact_indexes

    # ---- learning

    def learn_pair(self, kind, recorded, live, problems):
        mapping, reverse = {"uuid": (self.uuids, self._live_uuids),
                            "node": (self.nodes, self._live_nodes)}[kind]
        if mapping.get(recorded, live) != live:
            problems.append("recorded %s %s stood for %s, now for %s" % (
                kind, recorded, mapping[recorded], live))
        elif reverse.get(live, recorded) != recorded:
            problems.append("live %s %s stands for both %s and %s" % (
                kind, live, reverse[live], recorded))
        else:
            mapping[recorded], reverse[live] = live, recorded

    def learn_index(self, recorded, live, where, problems):
        if self.exact_indexes and live != recorded:
            problems.append("%s: index %d, recorded %d" % (where, live,
                                                           recorded))
            return
        for other, other_live in self.indexes.items():
            same_order = ((recorded > other) == (live > other_live) and
                          (recorded == other) == (live == other_live))
            if not same_order:
                problems.append(
                    "%s: recorded index %d -> live %d breaks the order of "
                    "recorded %d -> live %d" % (where, recorded, live, other,
                                                other_live))
                return
        self.indexes[recorded] = live

    def learn_json(self, recorded, live, where, problems):
        """Walks both documents side by side, learning where they agree in
        shape; where they do not, the text comparison reports it."""
        if isinstance(recorded, dict) and isinstance(live, dict):
            for key, value in recorded.items():
                if key in live:
                    self._learn_member(key, value, live[key],
                                       where + "." + key, problems)
        elif isinstance(recorded, list) and isinstance(live, list):
            for n, (a, b) in enumerate(zip(recorded, live)):
                self.learn_json(a, b, "%s[%d]" % (where, n), problems)
        elif isinstance(recorded, str) and isinstance(live, str):
            if UUID_RE.fullmatch(recorded) and UUID_RE.fullmatch(live):
                self.learn_pair("uuid", recorded, live, problems)

    def _learn_member(self, key, value, live, where, problems):
        if key in INDEX_KEYS and _is_int(value) and _is_int(live):
            self.learn_index(value, live, where, problems)
        elif key == "Node" and isinstance(value, str) and \
                isinstance(live, str):
            self.learn_pair("node", value, live, problems)
        else:
            self.learn_json(value, live, where, problems)

    def learn_text(self, recorded, live, problems):
        ours, theirs = UUID_RE.findall(recorded), UUID_RE.findall(live)
        if len(ours) == len(theirs):
            for a, b in zip(ours, theirs):
                self.learn_pair("uuid", a, b, problems)

    # ---- applying

    def to_live(self, text):
        """Recorded text with every learned volatile value replaced."""
        if text is None:
            return None
        text = UUID_RE.sub(lambda m: self.uuids.get(m.group(0), m.group(0)),
                           text)
        text = re.sub(r'("(?:CreateIndex|ModifyIndex)": )(\d+)',
                      lambda m: m.group(1) + str(
                          self.indexes.get(int(m.group(2)), m.group(2))),
                      text)
        return re.sub(r'("Node": )"([^"]*)"',
                      lambda m: '%s"%s"' % (m.group(1), self.nodes.get(
                          m.group(2), m.group(2))), text)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------
# Talking to Consul
# --------------------------------------------------------------------------

class Client:
    def __init__(self, base_url):
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise SystemExit("only http:// addresses are supported: %s"
                             % base_url)
        self.host, self.port = parts.hostname, parts.port or 8500

    def request(self, method, path, body=None):
        """(status, [(header, value)], body text)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            data = None if body is None else body.encode("utf-8")
            conn.request(method, quote(path, safe="/:?=&%"), body=data)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read().decode(
                "utf-8", "replace")
        finally:
            conn.close()


def start_double():
    proc = subprocess.Popen(
        [sys.executable, str(DOUBLE), "--addr", "127.0.0.1", "--port", "0",
         "--quiet"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        proc.kill()
        raise SystemExit("consul_double.py did not start: %r" % line)
    return proc, match.group(1)


def stop_double(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def cleanup(client, steps):
    """Removes what an earlier replay left on a shared agent. Keys go
    before sessions, so destroying a session starts no lock-delay."""
    keys, services, names = set(), set(), set()
    for step in steps:
        if step.path.startswith("/v1/kv/"):
            keys.add(urlsplit(step.path).path[len("/v1/kv/"):])
        body = _json_or_none(step.request_body or "")
        if isinstance(body, dict) and step.path.endswith("/register"):
            services.add(body.get("ID") or body.get("Name"))
        if isinstance(body, dict) and step.path == "/v1/session/create":
            names.add(body.get("Name"))
        listed = _json_or_none(step.body)
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and "Behavior" in item:
                names.add(item.get("Name"))
    for key in sorted(keys):
        client.request("DELETE", "/v1/kv/" + key)
    _, _, listing = client.request("GET", "/v1/session/list")
    for session in _json_or_none(listing) or []:
        if session.get("Name") in names:
            client.request("PUT", "/v1/session/destroy/" + session["ID"])
    for service in sorted(services):
        client.request("PUT", "/v1/agent/service/deregister/" + service)


# --------------------------------------------------------------------------
# Comparing one step
# --------------------------------------------------------------------------

def compare_headers(step, live_headers, norm, problems):
    live = {}
    for name, value in live_headers:
        live.setdefault(name.lower(), value)
    recorded = {n.lower(): v for n, v in step.headers
                if n.lower() not in IGNORED_HEADERS}
    for name, value in recorded.items():
        if name not in live:
            problems.append("header %s missing" % name)
        elif name == "x-consul-index":
            if live[name].isdigit():
                norm.learn_index(int(value), int(live[name]), name, problems)
            else:
                problems.append("header %s: %r" % (name, live[name]))
        elif live[name] != value:
            problems.append("header %s: expected %r, got %r" % (
                name, value, live[name]))
    for name in SIGNIFICANT_HEADERS - set(recorded):
        if name in live:
            problems.append("unexpected header %s: %r" % (name, live[name]))


def sort_like_consul(doc, norm):
    """Consul lists sessions in ID order, and live IDs differ from the
    recorded ones, so such a list comes back in another order. A recorded
    list of objects sorted by UUID "ID"s that are all mapped already is put
    in the order of the live IDs it stands for."""
    if not isinstance(doc, list) or not doc or not all(
            isinstance(item, dict) and isinstance(item.get("ID"), str)
            for item in doc):
        return doc
    ids = [item["ID"] for item in doc]
    if ids != sorted(ids) or not all(i in norm.uuids for i in ids):
        return doc
    return sorted(doc, key=lambda item: norm.uuids[item["ID"]])


def compare_step(step, status, headers, body, norm):
    """Returns a list of problems; empty when the answer matches."""
    problems = []
    if status != step.status:
        problems.append("status: expected %d, got %d" % (step.status,
                                                         status))
    compare_headers(step, headers, norm, problems)
    recorded_doc, live_doc = _json_or_none(step.body), _json_or_none(body)
    expected = step.body
    if recorded_doc is not None:
        reordered = sort_like_consul(recorded_doc, norm)
        if reordered != recorded_doc:
            # The recording is Go's 4-space MarshalIndent, which
            # json.dumps(indent=4) reproduces.
            recorded_doc = reordered
            expected = json.dumps(reordered, indent=4, ensure_ascii=False)
    if recorded_doc is not None and live_doc is not None:
        norm.learn_json(recorded_doc, live_doc, "body", problems)
    else:
        norm.learn_text(step.body, body, problems)
    expected = norm.to_live(expected).rstrip("\n")
    if body.rstrip("\n") != expected:
        diff = difflib.unified_diff(expected.splitlines(),
                                    body.rstrip("\n").splitlines(),
                                    "expected (recorded, mapped)", "live",
                                    lineterm="")
        problems.append("body differs:\n" + "\n".join(diff))
    return problems


def create_note_sessions(client, step, steps, last_body, norm, out):
    """Creates the sessions a note names; returns the number that failed."""
    failed = 0
    for label, recorded_id, body in note_sessions(step, steps, last_body):
        status, _, answer = client.request("PUT", "/v1/session/create",
                                           norm.to_live(body))
        live_id = (_json_or_none(answer) or {}).get("ID") \
            if status == 200 else None
        problems = []
        if isinstance(live_id, str) and UUID_RE.fullmatch(live_id):
            norm.learn_pair("uuid", recorded_id, live_id, problems)
        else:
            problems.append("create failed: %d %s" % (status, answer))
        report(out, "%s=%s" % (label, recorded_id), "PUT /v1/session/create "
               + body, problems)
        failed += bool(problems)
    return failed


def report(out, label, request, problems):
    out.write("%s %4s %s\n" % ("FAIL" if problems else "ok  ", label,
                               request))
    for problem in problems:
        out.write("       " + problem.replace("\n", "\n       ") + "\n")


def replay(client, steps, out, exact_indexes):
    """Returns (passed, failed) counts."""
    norm = Normaliser(exact_indexes)
    passed = failed = 0
    last_create_body = None
    for step in steps:
        status, headers, body = client.request(
            step.method, norm.to_live(step.path),
            norm.to_live(step.request_body))
        problems = compare_step(step, status, headers, body, norm)
        report(out, str(step.number), step.method + " " + step.path,
               problems)
        failed += bool(problems)
        passed += not problems
        if step.path == "/v1/session/create":
            last_create_body = step.request_body
        failed += create_note_sessions(client, step, steps,
                                       last_create_body, norm, out)
    return passed, failed


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcript", type=Path,
                        default=DEFAULT_TRANSCRIPT)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--addr", default=os.environ.get("CONSUL_HTTP_ADDR"),
                        help="Consul HTTP address (default: "
                        "$CONSUL_HTTP_ADDR, else a fresh double)")
    target.add_argument("--double", action="store_true",
                        help="always replay against a fresh double")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if (args.transcript == DEFAULT_TRANSCRIPT and RECORDING.is_file()
            and RECORDING.read_bytes() != DEFAULT_TRANSCRIPT.read_bytes()):
        raise SystemExit("%s differs from the recording %s: copy the recording "
                         "over it and replay again" % (DEFAULT_TRANSCRIPT, RECORDING))
    steps = parse_transcript(args.transcript.read_text(encoding="utf-8"))
    if not steps:
        raise SystemExit("no steps found in %s" % args.transcript)
    proc = None
    if args.double or not args.addr:
        proc, address = start_double()
    else:
        address = args.addr if "://" in args.addr else "http://" + args.addr
    client = Client(address)
    out = sys.stdout
    out.write("replaying %d steps of %s against %s\n" % (
        len(steps), args.transcript.name, address))
    try:
        if proc is None:
            cleanup(client, steps)
        passed, failed = replay(client, steps, out,
                                exact_indexes=proc is not None)
        if proc is None:
            cleanup(client, steps)
    finally:
        if proc is not None:
            stop_double(proc)
    out.write("%d passed, %d failed\n" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
