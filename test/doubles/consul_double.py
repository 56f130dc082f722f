#!/usr/bin/env python3
"""A stand-in for a single Consul 1.9 agent in -dev mode, over its HTTP API.

Usage: consul_double.py --addr 127.0.0.1 --port 8500 [--ttl-factor F]
                        [--node NAME] [--quiet]

Prints "consul-double listening on http://ADDR:PORT" once it accepts
requests (--port 0 picks a free port) and exits cleanly on SIGTERM/SIGINT.

Ground truth is shared/reference/consul-api-transcript.md, recorded from a
real Consul 1.9.0 dev agent; replay_transcript.py checks this double against
it. Behaviour the transcript does not show follows the Consul 1.9 source; each
such place names where it comes from ("consul: <file> <function>").

Model. Like the real agent, there are two views of every health check: the
agent's local state (what /v1/agent/check/* updates, and what TTL timers
expire) and the catalog (what /v1/health and sessions see). Status changes
reach the catalog at once; a change of output alone is deferred, as with
Consul's default check_update_interval of 5m. Every catalog, session or KV
write takes the next raft index; reads report per-table indexes exactly as
Consul's state store does (so X-Consul-Index on a KV read does not move when
a session is created).

Time. --ttl-factor F multiplies every server-side timer: check TTLs, session
TTL invalidation (exactly 2 x TTL, Consul's SessionTTLMultiplier), lock-delays,
the deferred output sync, the critical-service reaper and the RPC hold of a
server without a leader. Values reported in responses (TTL "10s", LockDelay
15000000000) are never scaled. Blocking-query waits are the client's and are
not scaled either.

Leader. SIGUSR1 makes the server lose its leader, as a follower does during an
election; SIGUSR2 elects one again. Without a leader, every request that needs
one (everything but /v1/agent/* and /v1/status/*) is held for the RPC hold
timeout (7 s) and answered 500 "No cluster leader", unless a leader is elected
meanwhile (consul: agent/consul/rpc.go forward). The agent's own endpoints
answer at once: check updates reset TTL timers and change the agent's status,
which reaches the catalog only once a leader is back, as do registrations and
deregistrations (anti-entropy needs a leader). Session TTL timers stop with
the leader and a new leader starts them again from the full 2 x TTL (consul:
leader.go initializeSessionTimers); nothing is invalidated without a leader.

Endpoints: /v1/status/leader|peers; /v1/agent/service/register|deregister;
/v1/agent/check/update|pass|warn|fail; /v1/health/service/<name> and
/v1/catalog/service/<name> (?passing, ?tag, blocking); /v1/session/create|
destroy|renew|info|list; /v1/kv/<key> (GET ?raw ?recurse ?keys ?separator,
blocking; PUT ?cas ?acquire ?release ?flags; DELETE ?recurse ?cas);
/v1/txn with KV operations (set, cas, get, delete, delete-cas,
check-session, check-index, check-not-exists). ACL
tokens (X-Consul-Token, ?token) are accepted and ignored; ACLs are disabled.

Not modelled: checks other than TTL (registering one is refused), other
nodes and datacenters, the agent's own /v1/agent/services|checks views,
tombstone reaping, HTTP chunked framing of large answers (every answer
carries a Content-Length), ?stale reads (held like the others without a
leader), and the agent's local view of a service registered while there is no
leader (its check is unknown to /v1/agent/check/* until the leader is back).
"""

import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

DATACENTER = "dc1"
NODE_ADDRESS = "127.0.0.1"
SERF_CHECK_ID = "serfHealth"
HEALTH_STATES = ("passing", "warning", "critical")

SECOND = 1_000_000_000  # nanoseconds, like Go's time.Second
SESSION_TTL_MIN = 10 * SECOND  # consul: config default session_ttl_min
SESSION_TTL_MAX = 24 * 3600 * SECOND  # consul: structs.SessionTTLMax
MAX_LOCK_DELAY = 60 * SECOND  # consul: structs.MaxLockDelay
LOCK_DELAY_MIN_THRESHOLD = 1000  # consul: structs lockDelayMinThreshold
CHECK_OUTPUT_MAX = 4096  # consul: checks.DefaultBufSize
CHECK_UPDATE_INTERVAL = 300.0  # consul: default check_update_interval (s)
REAP_INTERVAL = 30.0  # consul: check_reap_interval (s)
DEREGISTER_MIN = 60 * SECOND  # consul: check_deregister_interval_min
KV_MAX_VALUE_SIZE = 512 * 1024  # consul: default kv_max_value_size
DEFAULT_QUERY_TIME = 300.0  # consul: blocking query default wait (s)
MAX_QUERY_TIME = 600.0  # consul: blocking query maximum wait (s)
RPC_HOLD_TIMEOUT = 7.0  # consul: default rpc_hold_timeout (s)
NO_LEADER = "No cluster leader"  # consul: structs.ErrNoLeader

# A fresh 1.9 dev agent had applied 13 raft entries before the first API
# write of the reference transcript (node created at 11, updated at 13).
# Starting from the same place makes the double reproduce its indexes.
INITIAL_NODE_CREATE_INDEX = 11
INITIAL_RAFT_INDEX = 13


class ApiError(Exception):
    """An HTTP error answer: status code and plain-text body."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


# --------------------------------------------------------------------------
# Go-compatible formatting and parsing
# --------------------------------------------------------------------------

def go_quote(text):
    """strconv.Quote: a double-quoted Go string literal."""
    escapes = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b",
               "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append("\\x%02x" % ord(ch))
        elif ord(ch) < 0x10000:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append("\\U%08x" % ord(ch))
    return '"' + "".join(out) + '"'


_DURATION_UNITS = {"ns": 1, "us": 1000, "\u00b5s": 1000, "\u03bcs": 1000,
                   "ms": 1000 ** 2, "s": SECOND, "m": 60 * SECOND,
                   "h": 3600 * SECOND}


def parse_go_duration(text):
    """time.ParseDuration, in nanoseconds; ValueError carries Go's message."""
    def invalid():
        return ValueError("time: invalid duration " + go_quote(text))

    rest = text
    sign = -1 if rest[:1] == "-" else 1
    rest = rest[1:] if rest[:1] in ("-", "+") else rest
    if rest == "0":
        return 0
    if rest == "":
        raise invalid()
    total = Fraction(0)
    while rest:
        number = re.match(r"(\d*)(\.(\d*))?", rest)
        if not number.group(1) and not number.group(3):
            raise invalid()
        value = Fraction(number.group(0) if number.group(1) else
                         "0" + number.group(0))
        rest = rest[number.end():]
        unit = re.match(r"[^0-9.]*", rest).group(0)
        if not unit:
            raise ValueError("time: missing unit in duration " +
                             go_quote(text))
        if unit not in _DURATION_UNITS:
            raise ValueError("time: unknown unit " + go_quote(unit) +
                             " in duration " + go_quote(text))
        total += value * _DURATION_UNITS[unit]
        rest = rest[len(unit):]
    return sign * int(total)


def go_json(obj):
    """json.MarshalIndent(obj, "", "    ") plus the newline a dev agent adds.

    consul: agent/http.go marshalJSON pretty-prints every answer in -dev mode.
    Go escapes <, > and & (HTML-safe output) and leaves other UTF-8 alone.
    """
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return (text + "\n").encode("utf-8")


_HTML_SIGNATURES = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT",
                    b"<IFRAME", b"<H1", b"<DIV", b"<FONT", b"<TABLE", b"<A",
                    b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P",
                    b"<!--")
_MAGIC_TYPES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n",
                "image/png"), (b"GIF8", "image/gif"),
                (b"\xff\xd8\xff", "image/jpeg"),
                (b"\x1f\x8b\x08", "application/x-gzip"),
                (b"PK\x03\x04", "application/zip"))


def sniff_content_type(body):
    """A subset of Go's http.DetectContentType, which Go's server applies to
    any answer written without a Content-Type (error texts, ?raw values)."""
    head = body[:512]
    stripped = head.lstrip(b"\t\n\x0c\r ")
    upper = stripped.upper()
    for sig in _HTML_SIGNATURES:
        after = upper[len(sig):len(sig) + 1]
        if upper.startswith(sig) and after in (b" ", b">"):
            return "text/html; charset=utf-8"
    if stripped.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    for magic, ctype in _MAGIC_TYPES:
        if head.startswith(magic):
            return ctype
    binary = set(range(0x00, 0x09)) | {0x0B} | set(range(0x0E, 0x1B)) | set(
        range(0x1C, 0x20))
    if any(b in binary for b in head):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def new_uuid():
    """go-uuid GenerateUUID: 16 random bytes as 8-4-4-4-12 hex."""
    return str(uuid.UUID(bytes=os.urandom(16)))


# --------------------------------------------------------------------------
# Request bodies, decoded the way Go's encoding/json Decoder does
# --------------------------------------------------------------------------

class _GoJsonScanner:
    """Validates the first JSON value of a body with the error texts of Go's
    encoding/json scanner, so "Request decode failed: ..." answers match."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def scan(self):
        """Returns (start, end) of the first value; trailing data is ignored,
        as json.Decoder.Decode ignores it."""
        self._skip_space()
        if self.pos >= len(self.data):
            raise ValueError("EOF")
        start = self.pos
        self._value()
        return start, self.pos

    def _peek(self):
        if self.pos >= len(self.data):
            raise ValueError("unexpected EOF")
        return self.data[self.pos]

    def _fail(self, byte, context):
        if byte == ord("'"):
            char = "'\\''"
        elif byte == ord('"'):
            char = "'\"'"
        else:
            char = "'" + go_quote(chr(byte))[1:-1] + "'"
        raise ValueError("invalid character %s %s" % (char, context))

    def _skip_space(self):
        while self.pos < len(self.data) and self.data[self.pos] in b" \t\r\n":
            self.pos += 1

    def _value(self):
        byte = self._peek()
        literals = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
        if byte == ord("{"):
            self._object()
        elif byte == ord("["):
            self._array()
        elif byte == ord('"'):
            self._string()
        elif byte == ord("-") or ord("0") <= byte <= ord("9"):
            self._number()
        elif byte in literals:
            self._literal(literals[byte])
        else:
            self._fail(byte, "looking for beginning of value")

    def _literal(self, word):
        for expected in word:
            byte = self._peek()
            if byte != expected:
                self._fail(byte, "in literal %s (expecting %s)" % (
                    word.decode(), "'" + chr(expected) + "'"))
            self.pos += 1

    def _object(self):
        self.pos += 1
        self._skip_space()
        if self._peek() == ord("}"):
            self.pos += 1
            return
        while True:
            self._skip_space()
            if self._peek() != ord('"'):
                self._fail(self._peek(),
                           "looking for beginning of object key string")
            self._string()
            self._skip_space()
            if self._peek() != ord(":"):
                self._fail(self._peek(), "after object key")
            self.pos += 1
            self._skip_space()
            self._value()
            self._skip_space()
            byte = self._peek()
            self.pos += 1
            if byte == ord("}"):
                return
            if byte != ord(","):
                self.pos -= 1
                self._fail(byte, "after object key:value pair")

    def _array(self):
        self.pos += 1
        self._skip_space()
        if self._peek() == ord("]"):
            self.pos += 1
            return
        while True:
            self._skip_space()
            self._value()
            self._skip_space()
            byte = self._peek()
            self.pos += 1
            if byte == ord("]"):
                return
            if byte != ord(","):
                self._fail(byte, "after array element")

    def _string(self):
        self.pos += 1
        while True:
            byte = self._peek()
            self.pos += 1
            if byte == ord('"'):
                return
            if byte < 0x20:
                self._fail(byte, "in string literal")
            if byte == ord("\\"):
                self._escape()

    def _escape(self):
        byte = self._peek()
        self.pos += 1
        if byte == ord("u"):
            for _ in range(4):
                digit = self._peek()
                if chr(digit) not in "0123456789abcdefABCDEF":
                    self._fail(digit, "in \\u hexadecimal character escape")
                self.pos += 1
        elif chr(byte) not in '"\\/bfnrt':
            self._fail(byte, "in string escape code")

    def _digits(self):
        while self.pos < len(self.data) and chr(self.data[self.pos]).isdigit():
            self.pos += 1

    def _number(self):
        if self._peek() == ord("-"):
            self.pos += 1
            if not chr(self._peek()).isdigit():
                self._fail(self._peek(), "in numeric literal")
        if self._peek() == ord("0"):
            self.pos += 1
        else:
            self._digits()
        if self.pos < len(self.data) and self.data[self.pos] == ord("."):
            self.pos += 1
            if not chr(self._peek()).isdigit():
                self._fail(self._peek(), "after decimal point in numeric "
                           "literal")
            self._digits()
        if self.pos < len(self.data) and self.data[self.pos] in b"eE":
            self.pos += 1
            if self._peek() in b"+-":
                self.pos += 1
            if not chr(self._peek()).isdigit():
                self._fail(self._peek(), "in exponent of numeric literal")
            self._digits()


def _json_kind(value):
    """The JSON type name Go uses in UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def decode_body(body, go_type):
    """Decodes a request body into a dict, or raises ApiError 400 with
    "Request decode failed: <Go's error>". A JSON null gives {} (Go leaves
    the struct's defaults alone). Type errors name go_type; their wording
    is close to, not always exactly, Go's."""
    try:
        start, end = _GoJsonScanner(body).scan()
        value = json.loads(body[start:end].decode("utf-8", "replace"))
    except ValueError as err:
        raise ApiError(400, "Request decode failed: %s" % err) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Request decode failed: json: cannot unmarshal "
                       "%s into Go value of type %s" % (_json_kind(value),
                                                        go_type))
    return value


_ABSENT = object()


class Fields:
    """Typed, case-insensitive access to a decoded JSON object, like Go's
    field matching (the last key that folds to the field's name wins)."""

    def __init__(self, obj, struct):
        self.obj = obj
        self.struct = struct

    def raw(self, *names):
        found = _ABSENT
        wanted = {n.lower() for n in names}
        for key, value in self.obj.items():
            if key.lower() in wanted:
                found = value
        return found

    def _type_error(self, name, value, go_type):
        raise ApiError(400, "Request decode failed: json: cannot unmarshal "
                       "%s into Go struct field %s.%s of type %s" % (
                           _json_kind(value), self.struct, name, go_type))

    def string(self, name, default="", aliases=()):
        value = self.raw(name, *aliases)
        if value is _ABSENT or value is None:
            return default
        if not isinstance(value, str):
            self._type_error(name, value, "string")
        return value

    def integer(self, name, default=0):
        value = self.raw(name)
        if value is _ABSENT or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or int(value) != value:
            self._type_error(name, value, "int")
        return int(value)

    def boolean(self, name, default=False, aliases=()):
        value = self.raw(name, *aliases)
        if value is _ABSENT or value is None:
            return default
        if not isinstance(value, bool):
            self._type_error(name, value, "bool")
        return value

    def string_list(self, name, default=_ABSENT):
        """A []string: null gives None (nil), absent gives default."""
        value = self.raw(name)
        if value is _ABSENT:
            return default
        if value is None:
            return None
        if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value):
            self._type_error(name, value, "[]string")
        return list(value)

    def string_map(self, name, aliases=()):
        value = self.raw(name, *aliases)
        if value is _ABSENT or value is None:
            return None
        if not isinstance(value, dict) or not all(
                isinstance(v, str) for v in value.values()):
            self._type_error(name, value, "map[string]string")
        return dict(value)

    def duration(self, name, aliases=()):
        """A duration given as a Go string ("25s") or as nanoseconds."""
        value = self.raw(name, *aliases)
        if value is _ABSENT or value is None:
            return 0
        if isinstance(value, str):
            try:
                return parse_go_duration(value)
            except ValueError as err:
                raise ApiError(400, "Request decode failed: %s" % err) \
                    from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        return 0


# --------------------------------------------------------------------------
# Timers
# --------------------------------------------------------------------------

class Timer:
    """A handle on a scheduled callback; cancel() under the state lock."""

    def __init__(self, due, callback):
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return self.due < other.due


class Scheduler:
    """Runs callbacks at monotonic deadlines on one background thread."""

    def __init__(self):
        self._cond = threading.Condition()
        self._timers = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def call_later(self, delay, callback):
        timer = Timer(time.monotonic() + max(delay, 0.0), callback)
        with self._cond:
            # Renewals cancel and re-arm often: drop what was cancelled.
            self._timers = [t for t in self._timers if not t.cancelled]
            self._timers.append(timer)
            self._timers.sort()
            self._cond.notify()
        return timer

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _next_due(self):
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                if self._timers and self._timers[0].due <= now:
                    return self._timers.pop(0)
                timeout = self._timers[0].due - now if self._timers else None
                self._cond.wait(timeout)
            return None

    def _run(self):
        while True:
            timer = self._next_due()
            if timer is None:
                return
            if not timer.cancelled:
                timer.callback()


# --------------------------------------------------------------------------
# Records and their JSON shapes
# --------------------------------------------------------------------------

@dataclass
class Service:
    id: str
    name: str
    tags: list = None
    address: str = ""
    port: int = 0
    meta: dict = None
    weights: dict = field(default_factory=lambda: {"Passing": 1,
                                                   "Warning": 1})
    enable_tag_override: bool = False
    create_index: int = 0
    modify_index: int = 0

    def definition(self):
        """What decides whether a re-registration changes the catalog."""
        return (self.name, self.tags, self.address, self.port, self.meta,
                self.weights, self.enable_tag_override)

    def tagged_addresses(self):
        """consul: agent.go addServiceInternal sets lan/wan tagged
        addresses from an IP service address."""
        try:
            family = socket.AF_INET
            socket.inet_pton(family, self.address)
            suffix = "ipv4"
        except OSError:
            try:
                socket.inet_pton(socket.AF_INET6, self.address)
                suffix = "ipv6"
            except OSError:
                return None
        addr = {"Address": self.address, "Port": self.port}
        return {"lan_" + suffix: dict(addr), "wan_" + suffix: dict(addr)}


@dataclass
class Check:
    """A TTL check: agent-local status/output plus the catalog's copy."""
    check_id: str
    name: str
    service_id: str
    service_name: str
    service_tags: list
    notes: str
    ttl: int  # nanoseconds
    status: str
    output: str = ""
    catalog_status: str = ""
    catalog_output: str = ""
    create_index: int = 0
    modify_index: int = 0
    last_output: str = ""  # what the TTL-expired message quotes
    deregister_after: int = 0  # nanoseconds, 0 = never
    critical_since: float = None
    ttl_timer: Timer = None
    defer_timer: Timer = None


@dataclass
class Session:
    id: str
    name: str
    node: str
    lock_delay: int  # nanoseconds
    behavior: str
    ttl: str
    node_checks: list
    service_checks: list
    checks: list  # deprecated "Checks" field, shown only when non-empty
    create_index: int = 0
    timer: Timer = None

    def check_ids(self):
        """consul: structs.Session.CheckIDs."""
        ids = list(self.checks or []) + list(self.node_checks or [])
        return ids + [c["ID"] for c in self.service_checks or []]

    def to_json(self):
        out = {"ID": self.id, "Name": self.name, "Node": self.node,
               "LockDelay": self.lock_delay, "Behavior": self.behavior,
               "TTL": self.ttl, "NodeChecks": self.node_checks,
               "ServiceChecks": self.service_checks}
        if self.checks:
            out["Checks"] = self.checks
        out["CreateIndex"] = self.create_index
        out["ModifyIndex"] = self.create_index
        return out


@dataclass
class KvEntry:
    key: str
    value: bytes  # None when written with an empty body
    flags: int = 0
    session: str = ""
    lock_index: int = 0
    create_index: int = 0
    modify_index: int = 0

    def same_content(self, other):
        """consul: structs.DirEntry.Equal (an unchanged write is skipped)."""
        return (self.lock_index, self.key, self.flags, self.value or b"",
                self.session) == (other.lock_index, other.key, other.flags,
                                  other.value or b"", other.session)

    def to_json(self):
        out = {"LockIndex": self.lock_index, "Key": self.key,
               "Flags": self.flags,
               "Value": None if self.value is None else
               base64.b64encode(self.value).decode("ascii")}
        if self.session:
            out["Session"] = self.session
        out["CreateIndex"] = self.create_index
        out["ModifyIndex"] = self.modify_index
        return out


def _sorted_map(mapping):
    """Go marshals maps with sorted keys."""
    return None if mapping is None else dict(sorted(mapping.items()))


# --------------------------------------------------------------------------
# State: indexes, watches and timers shared by the catalog, sessions and KV
# --------------------------------------------------------------------------

class StateCore:
    """One lock guards everything; blocking readers wait on its condition.

    A "scope" names what a memdb watch in Consul would cover: "kv:<key>",
    "service:<lowercased name>", "sessions", "session:<id>". Writers touch
    the scopes they change; a blocked query re-runs only when one of its
    scopes was touched, as Consul's blockingQuery does.
    """

    def __init__(self, node_name, ttl_factor, scheduler):
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._scheduler = scheduler
        self._factor = ttl_factor
        self.node_name = node_name
        self.node_id = new_uuid()
        self._raft_index = INITIAL_RAFT_INDEX
        self._tables = {"nodes": INITIAL_RAFT_INDEX,
                        "services": INITIAL_NODE_CREATE_INDEX,
                        "checks": INITIAL_NODE_CREATE_INDEX,
                        "sessions": 0, "kvs": 0, "tombstones": 0}
        self._seq = 0
        self._watch = {}
        self._has_leader = threading.Event()
        self._has_leader.set()
        self._deferred = []  # agent changes waiting for a leader to sync them

    # ---- leadership

    @property
    def leader(self):
        return self._has_leader.is_set()

    def wait_for_leader(self):
        """consul: rpc.go forward holds a request that needs the leader for
        rpc_hold_timeout, retrying, then fails with ErrNoLeader."""
        if not self._has_leader.wait(RPC_HOLD_TIMEOUT * self._factor):
            raise ApiError(500, NO_LEADER)

    def lose_leader(self):
        """A follower whose leader is gone: raft applies nothing until one
        is elected; the session timers stop with the old leader."""
        with self._lock:
            self._has_leader.clear()
            self._leader_lost()

    def elect_leader(self):
        """A new leader: it starts every session's TTL timer afresh and the
        agent syncs what changed meanwhile (its checks' status, its services)."""
        with self._lock:
            if self._has_leader.is_set():
                return
            self._has_leader.set()
            deferred, self._deferred = self._deferred, []
            for change in deferred:
                change()
            self._leader_elected()
            self._touch()

    def _leader_lost(self):
        """Hook for the mixins."""

    def _leader_elected(self):
        """Hook for the mixins."""

    def _unless_leaderless(self, change):
        """Runs change now, or once a leader is elected; True when now."""
        if self._has_leader.is_set():
            return True
        self._deferred.append(change)
        return False

    def _next_index(self):
        """Every raft apply takes the next index, even one that fails."""
        self._raft_index += 1
        return self._raft_index

    def _touch(self, *scopes):
        self._seq += 1
        for scope in scopes:
            self._watch[scope] = self._seq
        self._changed.notify_all()

    def _fired(self, scopes, prefix, since):
        if any(self._watch.get(s, 0) > since for s in scopes):
            return True
        if prefix is None:
            return False
        return any(seq > since for scope, seq in self._watch.items()
                   if scope.startswith("kv:" + prefix))

    def blocking_read(self, query, min_index, wait, scopes=(), prefix=None):
        """Runs query() -> (index, result) until its index exceeds min_index
        (re-running it whenever a watched scope changes) or wait seconds
        pass. consul: agent/consul/rpc.go blockingQuery (index 0 reads as 1).
        """
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                since = self._seq
                index, result = query()
                index = max(index, 1)
                if min_index == 0 or index > min_index:
                    return index, result
                if not self._wait_for(scopes, prefix, since, deadline):
                    return index, result

    def _wait_for(self, scopes, prefix, since, deadline):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.wait(remaining)
            if self._fired(scopes, prefix, since):
                return True

    def _later(self, seconds, callback):
        """Runs callback under the lock after seconds (already scaled),
        unless the returned timer was cancelled first."""
        holder = []

        def run():
            with self._lock:
                if not holder[0].cancelled:
                    callback()

        holder.append(self._scheduler.call_later(seconds, run))
        return holder[0]

    def _scaled(self, nanoseconds):
        return nanoseconds / SECOND * self._factor


# --------------------------------------------------------------------------
# Catalog and agent: services, TTL checks, health queries
# --------------------------------------------------------------------------

CONSUL_SERVICE = Service(
    id="consul", name="consul", port=8300,
    meta={"raft_version": "3", "serf_protocol_current": "2",
          "serf_protocol_max": "5", "serf_protocol_min": "1",
          "version": "1.9.0"},
    create_index=INITIAL_NODE_CREATE_INDEX,
    modify_index=INITIAL_NODE_CREATE_INDEX)


@dataclass
class CheckDefinition:
    """The part of a registration's Check/Checks entry the double uses."""
    check_id: str = ""
    name: str = ""
    status: str = ""
    notes: str = ""
    ttl: int = 0
    deregister_after: int = 0


class CatalogMixin:
    """The agent's services and TTL checks and the catalog they sync to.

    A dev agent is also a server: the leader registers the node with its
    serfHealth check and the "consul" service before any API call.
    """

    def _init_catalog(self):
        self._services = {CONSUL_SERVICE.id: CONSUL_SERVICE}
        self._agent_services = set()
        self._checks = {}
        self._service_index = {"consul": INITIAL_NODE_CREATE_INDEX}
        self._extinction_index = 0
        self._later(REAP_INTERVAL * self._factor, self._reap)

    # ---- registration

    def register_service(self, svc, definitions, replace_existing):
        """consul: agent.go addServiceInternal, then anti-entropy sync."""
        with self._lock:
            if not self._unless_leaderless(lambda: self.register_service(
                    svc, definitions, replace_existing)):
                return
            old = self._services.get(svc.id)
            checks = [self._new_check(svc, d, i, len(definitions))
                      for i, d in enumerate(definitions)]
            kept = {c.check_id for c in checks}
            stale = [c for c in self._checks.values()
                     if c.service_id == svc.id and c.check_id not in kept]
            self._agent_services.add(svc.id)
            idx = self._next_index()
            changed = self._store_service(old, svc, idx)
            for check in checks:
                changed |= self._store_check(check, idx)
            if changed:
                self._service_changed(svc.name, idx)
            if old is not None and old.name.lower() != svc.name.lower():
                self._service_changed(old.name, idx)
            for check in checks:
                if check.catalog_status == "critical":
                    self._invalidate_check_sessions(check.check_id, idx)
            if replace_existing:
                for check in stale:
                    self._remove_check(check, self._next_index())

    def _new_check(self, svc, definition, position, count):
        check_id = definition.check_id or "service:" + svc.id + (
            ":%d" % (position + 1) if count > 1 else "")
        check = Check(
            check_id=check_id,
            name=definition.name or "Service '%s' check" % svc.name,
            service_id=svc.id, service_name=svc.name,
            service_tags=svc.tags, notes=definition.notes,
            ttl=definition.ttl, status=definition.status or "critical",
            deregister_after=definition.deregister_after)
        previous = self._checks.get(check_id)
        if previous is not None:
            # Re-registering keeps the check's state.
            # consul: agent.go addServiceInternal "Restore the fields from
            # the snapshot".
            check.status, check.output = previous.status, previous.output
            check.critical_since = previous.critical_since
            self._stop_check_timers(previous)
        elif check.status == "critical":
            check.critical_since = time.monotonic()
        self._start_ttl_timer(check)
        return check

    def _store_service(self, old, svc, idx):
        if old is not None and old.definition() == svc.definition():
            svc.create_index, svc.modify_index = (old.create_index,
                                                  old.modify_index)
            self._services[svc.id] = svc
            return False
        svc.create_index = old.create_index if old else idx
        svc.modify_index = idx
        self._services[svc.id] = svc
        self._tables["services"] = idx
        return True

    @staticmethod
    def _catalog_view(check):
        return (check.name, check.catalog_status, check.notes,
                check.catalog_output, check.service_id, check.service_name,
                check.service_tags)

    def _store_check(self, check, idx):
        previous = self._checks.get(check.check_id)
        self._checks[check.check_id] = check
        check.catalog_status, check.catalog_output = (check.status,
                                                      check.output)
        if previous is not None and self._catalog_view(
                previous) == self._catalog_view(check):
            check.create_index = previous.create_index
            check.modify_index = previous.modify_index
            return False
        check.create_index = previous.create_index if previous else idx
        check.modify_index = idx
        self._tables["checks"] = idx
        return True

    def _service_changed(self, name, idx):
        """consul: state/catalog.go catalogUpdateServiceIndexes, or the
        extinction index once the last instance of a name is gone."""
        key = name.lower()
        if any(s.name.lower() == key for s in self._services.values()):
            self._service_index[key] = idx
        else:
            self._service_index.pop(key, None)
            self._extinction_index = idx
        self._touch("service:" + key)

    # ---- deregistration

    def deregister_service(self, service_id):
        """Unknown IDs are a silent no-op with ACLs disabled.
        consul 1.9: agent.go removeServiceLocked only logs a warning."""
        with self._lock:
            if not self._unless_leaderless(
                    lambda: self.deregister_service(service_id)):
                return
            if service_id not in self._agent_services:
                return
            self._agent_services.discard(service_id)
            svc = self._services.pop(service_id)
            checks = [c for c in self._checks.values()
                      if c.service_id == service_id]
            idx = self._next_index()
            self._tables["services"] = idx
            for check in checks:
                self._drop_check(check, idx)
            self._service_changed(svc.name, idx)
            for check in checks:
                self._invalidate_check_sessions(check.check_id, idx)

    def _drop_check(self, check, idx):
        self._stop_check_timers(check)
        del self._checks[check.check_id]
        self._tables["checks"] = idx

    def _remove_check(self, check, idx):
        self._drop_check(check, idx)
        self._service_changed(check.service_name, idx)
        self._invalidate_check_sessions(check.check_id, idx)

    # ---- check updates (agent side) and their sync to the catalog

    def update_ttl_check(self, check_id, status, output):
        """consul: agent.go updateTTLCheck and checks.CheckTTL.SetStatus."""
        with self._lock:
            check = self._checks.get(check_id)
            if check is None:
                raise ApiError(500, "CheckID %s does not have associated TTL"
                               % go_quote(check_id))
            raw = output.encode("utf-8")
            if len(raw) > CHECK_OUTPUT_MAX:
                output = "%s ... (captured %d of %d bytes)" % (
                    raw[:CHECK_OUTPUT_MAX].decode("utf-8", "replace"),
                    CHECK_OUTPUT_MAX, len(raw))
            check.last_output = output
            self._start_ttl_timer(check)
            self._local_update(check, status, output)

    def _local_update(self, check, status, output):
        """consul: agent/local/state.go UpdateCheck. A new status syncs at
        once; new output alone waits for check_update_interval."""
        if (check.status, check.output) == (status, output):
            return
        if check.status == status:
            check.output = output
            if check.defer_timer is None:
                delay = (CHECK_UPDATE_INTERVAL / 2 +
                         random.uniform(0, CHECK_UPDATE_INTERVAL))
                check.defer_timer = self._later(
                    delay * self._factor, lambda: self._sync_check(check))
            return
        check.status, check.output = status, output
        if status != "critical":
            check.critical_since = None
        elif check.critical_since is None:
            check.critical_since = time.monotonic()
        self._sync_check(check)

    def _sync_check(self, check):
        if check.defer_timer is not None:
            check.defer_timer.cancel()
            check.defer_timer = None
        if self._checks.get(check.check_id) is not check:
            return
        if not self._unless_leaderless(lambda: self._sync_check(check)):
            return
        if (check.catalog_status, check.catalog_output) == (check.status,
                                                            check.output):
            return
        idx = self._next_index()
        check.catalog_status, check.catalog_output = (check.status,
                                                      check.output)
        check.modify_index = idx
        self._tables["checks"] = idx
        self._service_changed(check.service_name, idx)
        if check.catalog_status == "critical":
            # consul: state/catalog.go ensureCheckTxn deletes the sessions
            # of a check that turns critical, in the same transaction.
            self._invalidate_check_sessions(check.check_id, idx)

    def _start_ttl_timer(self, check):
        if check.ttl_timer is not None:
            check.ttl_timer.cancel()
        check.ttl_timer = self._later(self._scaled(check.ttl),
                                      lambda: self._ttl_expired(check))

    def _ttl_expired(self, check):
        """consul: checks/check.go CheckTTL getExpiredOutput."""
        check.ttl_timer = None
        if self._checks.get(check.check_id) is not check:
            return
        output = "TTL expired"
        if check.last_output:
            output += (" (last output before timeout follows): " +
                       check.last_output)
        self._local_update(check, "critical", output)

    @staticmethod
    def _stop_check_timers(check):
        for timer in (check.ttl_timer, check.defer_timer):
            if timer is not None:
                timer.cancel()
        check.ttl_timer = check.defer_timer = None

    def _reap(self):
        """consul: agent.go reapServicesInternal, every check_reap_interval:
        removes services critical for longer than their check's
        DeregisterCriticalServiceAfter (at least 1m)."""
        now = time.monotonic()
        for check in list(self._checks.values()):
            if not check.deregister_after or check.critical_since is None:
                continue
            limit = self._scaled(max(check.deregister_after, DEREGISTER_MIN))
            if now - check.critical_since > limit:
                self.deregister_service(check.service_id)
        self._later(REAP_INTERVAL * self._factor, self._reap)

    # ---- health and catalog queries

    def _service_query_index(self, name, exists, with_checks):
        """consul: state/catalog.go maxIndexAndWatchChForService."""
        if not exists and self._extinction_index:
            return self._extinction_index
        if name.lower() in self._service_index:
            return self._service_index[name.lower()]
        tables = ["nodes", "services"] + (["checks"] if with_checks else [])
        return max(self._tables[t] for t in tables)

    def _instances(self, name, tags):
        wanted = [t.lower() for t in tags]
        found = [s for s in self._services.values()
                 if s.name.lower() == name.lower()]
        found = [s for s in found
                 if all(t in [x.lower() for x in s.tags or []]
                        for t in wanted)]
        return sorted(found, key=lambda s: s.id.lower())

    def health_service(self, name, tags, passing_only):
        """(index, entries) for GET /v1/health/service/<name>."""
        services = self._instances(name, tags)
        index = self._service_query_index(name, bool(services), True)
        entries = [self._health_entry(s) for s in services]
        if passing_only:
            entries = [e for e in entries
                       if all(c["Status"] == "passing" for c in e["Checks"])]
        return index, entries

    def catalog_service(self, name, tags):
        """(index, entries) for GET /v1/catalog/service/<name>."""
        services = self._instances(name, tags)
        index = self._service_query_index(name, bool(services), False)
        return index, [self._catalog_entry(s) for s in services]

    def _node_json(self):
        return {"ID": self.node_id, "Node": self.node_name,
                "Address": NODE_ADDRESS, "Datacenter": DATACENTER,
                "TaggedAddresses": self._node_tagged_addresses(),
                "Meta": {"consul-network-segment": ""},
                "CreateIndex": INITIAL_NODE_CREATE_INDEX,
                "ModifyIndex": INITIAL_RAFT_INDEX}

    @staticmethod
    def _node_tagged_addresses():
        return {"lan": NODE_ADDRESS, "lan_ipv4": NODE_ADDRESS,
                "wan": NODE_ADDRESS, "wan_ipv4": NODE_ADDRESS}

    def _health_entry(self, svc):
        checks = sorted((c for c in self._checks.values()
                         if c.service_id == svc.id),
                        key=lambda c: c.check_id.lower())
        return {"Node": self._node_json(),
                "Service": self._service_json(svc),
                "Checks": [self._serf_check_json()] +
                          [self._check_json(c) for c in checks]}

    @staticmethod
    def _service_json(svc):
        out = {"ID": svc.id, "Service": svc.name, "Tags": svc.tags or [],
               "Address": svc.address}
        if svc.tagged_addresses():
            out["TaggedAddresses"] = svc.tagged_addresses()
        out.update({"Meta": _sorted_map(svc.meta), "Port": svc.port,
                    "Weights": svc.weights,
                    "EnableTagOverride": svc.enable_tag_override,
                    "Proxy": {"MeshGateway": {}, "Expose": {}},
                    "Connect": {}, "CreateIndex": svc.create_index,
                    "ModifyIndex": svc.modify_index})
        return out

    def _serf_check_json(self):
        return {"Node": self.node_name, "CheckID": SERF_CHECK_ID,
                "Name": "Serf Health Status", "Status": "passing",
                "Notes": "", "Output": "Agent alive and reachable",
                "ServiceID": "", "ServiceName": "", "ServiceTags": [],
                "Type": "", "Definition": {},
                "CreateIndex": INITIAL_NODE_CREATE_INDEX,
                "ModifyIndex": INITIAL_NODE_CREATE_INDEX}

    def _check_json(self, check):
        return {"Node": self.node_name, "CheckID": check.check_id,
                "Name": check.name, "Status": check.catalog_status,
                "Notes": check.notes, "Output": check.catalog_output,
                "ServiceID": check.service_id,
                "ServiceName": check.service_name,
                "ServiceTags": check.service_tags or [], "Type": "ttl",
                "Definition": {}, "CreateIndex": check.create_index,
                "ModifyIndex": check.modify_index}

    def _catalog_entry(self, svc):
        out = {"ID": self.node_id, "Node": self.node_name,
               "Address": NODE_ADDRESS, "Datacenter": DATACENTER,
               "TaggedAddresses": self._node_tagged_addresses(),
               "NodeMeta": {"consul-network-segment": ""},
               "ServiceKind": "", "ServiceID": svc.id,
               "ServiceName": svc.name, "ServiceTags": svc.tags or [],
               "ServiceAddress": svc.address}
        if svc.tagged_addresses():
            out["ServiceTaggedAddresses"] = svc.tagged_addresses()
        out.update({"ServiceWeights": svc.weights,
                    "ServiceMeta": _sorted_map(svc.meta) or {},
                    "ServicePort": svc.port,
                    "ServiceEnableTagOverride": svc.enable_tag_override,
                    "ServiceProxy": {"MeshGateway": {}, "Expose": {}},
                    "ServiceConnect": {}, "CreateIndex": svc.create_index,
                    "ModifyIndex": svc.modify_index})
        return out

    def catalog_check_status(self, check_id):
        """The catalog status of a node or service check, or None."""
        if check_id == SERF_CHECK_ID:
            return "passing"
        check = self._checks.get(check_id)
        return None if check is None else check.catalog_status


# --------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------

@dataclass
class SessionRequest:
    """A decoded /v1/session/create body, defaults applied.
    consul: agent/session_endpoint.go SessionCreate."""
    name: str = ""
    node: str = ""
    behavior: str = "release"
    ttl: str = ""
    lock_delay: int = 15 * SECOND
    node_checks: list = field(default_factory=lambda: [SERF_CHECK_ID])
    service_checks: list = None
    checks: list = field(default_factory=lambda: [SERF_CHECK_ID])

    def fix_up_checks(self):
        """consul: agent/session_endpoint.go fixupEmptySessionChecks."""
        if not self.checks:
            self.node_checks = []
        elif self.checks == [SERF_CHECK_ID]:
            self.checks = None
        elif not self.node_checks:
            self.checks = None


class SessionMixin:
    """Sessions, their TTL timers, and invalidation."""

    def _init_sessions(self):
        self._sessions = {}

    def create_session(self, request):
        """consul: consul/session_endpoint.go Apply (validation before
        raft), then state/session.go sessionCreateTxn (after raft)."""
        with self._lock:
            ttl = self._validate_session(request)
            session_id = new_uuid()
            idx = self._next_index()
            if request.node != self.node_name:
                raise ApiError(500, "Missing node registration")
            session = Session(
                id=session_id, name=request.name, node=request.node,
                lock_delay=request.lock_delay, behavior=request.behavior,
                ttl=request.ttl, node_checks=request.node_checks,
                service_checks=request.service_checks,
                checks=request.checks, create_index=idx)
            for check_id in session.check_ids():
                status = self.catalog_check_status(check_id)
                if status is None:
                    raise ApiError(500, "Missing check '%s' registration"
                                   % check_id)
                if status == "critical":
                    raise ApiError(500, "Check '%s' is in critical state"
                                   % check_id)
            self._sessions[session_id] = session
            self._tables["sessions"] = idx
            self._touch("sessions", "session:" + session_id)
            if ttl:
                self._start_session_timer(session, ttl)
            return session_id

    @staticmethod
    def _validate_session(request):
        if request.node == "":
            raise ApiError(500, "Must provide Node")
        if request.behavior == "":
            request.behavior = "release"
        if request.behavior not in ("release", "delete"):
            raise ApiError(500, "Invalid Behavior setting '%s'"
                           % request.behavior)
        if request.ttl == "":
            return 0
        try:
            ttl = parse_go_duration(request.ttl)
        except ValueError as err:
            raise ApiError(500, "Session TTL '%s' invalid: %s"
                           % (request.ttl, err)) from None
        if ttl != 0 and not SESSION_TTL_MIN <= ttl <= SESSION_TTL_MAX:
            raise ApiError(500, "Invalid Session TTL '%d', must be between "
                           "[10s=24h0m0s]" % ttl)
        return ttl

    def _leader_lost(self):
        for session in self._sessions.values():
            if session.timer is not None:
                session.timer.cancel()
                session.timer = None

    def _leader_elected(self):
        for session in self._sessions.values():
            if session.ttl:
                self._start_session_timer(session, parse_go_duration(session.ttl))

    def _start_session_timer(self, session, ttl):
        """consul: leader's session timers fire at SessionTTLMultiplier (2)
        times the TTL after creation or the last renewal."""
        if session.timer is not None:
            session.timer.cancel()
        session.timer = self._later(self._scaled(2 * ttl),
                                    lambda: self._session_expired(session))

    def _session_expired(self, session):
        if self._sessions.get(session.id) is session:
            self._destroy_session(session.id, self._next_index())

    def destroy_session(self, session_id):
        with self._lock:
            self._destroy_session(session_id, self._next_index())

    def renew_session(self, session_id):
        """Returns the renewed session's JSON, or None if there is none."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            ttl = parse_go_duration(session.ttl) if session.ttl else 0
            if ttl:
                self._start_session_timer(session, ttl)
            return session.to_json()

    def session_info(self, session_id):
        session = self._sessions.get(session_id)
        return self._tables["sessions"], (
            [session.to_json()] if session else [])

    def session_list(self):
        return self._tables["sessions"], [
            self._sessions[k].to_json() for k in sorted(self._sessions)]

    def _invalidate_check_sessions(self, check_id, idx):
        for session_id in sorted(self._sessions):
            if check_id in self._sessions[session_id].check_ids():
                self._destroy_session(session_id, idx)

    def _destroy_session(self, session_id, idx):
        """consul: state/session.go deleteSessionTxn: releases or deletes
        the keys the session holds and starts their lock-delay (at most
        MaxLockDelay). A voluntary ?release never gets here."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        if session.timer is not None:
            session.timer.cancel()
        self._tables["sessions"] = idx
        self._touch("sessions", "session:" + session_id)
        delay = self._scaled(min(session.lock_delay, MAX_LOCK_DELAY))
        held = sorted(k for k, e in self._kv.items()
                      if e.session == session_id)
        for key in held:
            if session.behavior == "delete":
                self._kv_delete_key(key, idx)
            else:
                entry = self._kv[key]
                self._kv_write(idx, KvEntry(
                    key=key, value=entry.value, flags=entry.flags,
                    lock_index=entry.lock_index), update_session=True)
            if delay > 0:
                self._lock_delays[key] = time.monotonic() + delay


# --------------------------------------------------------------------------
# Key/value store
# --------------------------------------------------------------------------

TXN_WRITE_VERBS = ("set", "delete", "delete-cas", "delete-tree", "cas", "lock",
                   "unlock")


class KvMixin:
    """KV entries, tombstones and lock-delays.
    consul: agent/consul/state/kvs.go."""

    def _init_kv(self):
        self._kv = {}
        self._tombstones = {}  # key or deleted prefix -> raft index
        self._lock_delays = {}  # key -> monotonic expiry

    def _kv_table_index(self):
        return max(self._tables["kvs"], self._tables["tombstones"])

    def _prefix_index(self, prefix, entries):
        """consul: kvsListTxn / kvsListKeysTxn index choice."""
        if prefix == "":
            return self._kv_table_index()
        sub = max([e.modify_index for e in entries] +
                  [i for k, i in self._tombstones.items()
                   if k.startswith(prefix)] + [0])
        return sub or self._kv_table_index()

    def kv_get(self, key):
        return self._kv_table_index(), self._kv.get(key)

    def kv_list(self, prefix):
        entries = [self._kv[k] for k in sorted(self._kv)
                   if k.startswith(prefix)]
        return self._prefix_index(prefix, entries), entries

    def kv_keys(self, prefix, separator):
        entries = [self._kv[k] for k in sorted(self._kv)
                   if k.startswith(prefix)]
        keys = []
        for entry in entries:
            after = entry.key[len(prefix):]
            cut = after.find(separator) if separator else -1
            key = entry.key if cut < 0 else (
                entry.key[:len(prefix) + cut + len(separator)])
            if not keys or keys[-1] != key:
                keys.append(key)
        return self._prefix_index(prefix, entries), keys

    def kv_put(self, op, entry, session="", cas=0):
        """op is set, cas, lock or unlock; returns the answer's boolean."""
        with self._lock:
            if op == "lock" and self._lock_delays.get(
                    entry.key, 0) > time.monotonic():
                # consul: kvs_endpoint.go kvsPreApply rejects before raft.
                return False
            idx = self._next_index()
            if op == "lock":
                return self._kv_lock(idx, entry, session)
            if op == "unlock":
                return self._kv_unlock(idx, entry, session)
            existing = self._kv.get(entry.key)
            if op == "cas" and (existing.modify_index if existing else 0) \
                    != cas:
                return False
            self._kv_write(idx, entry, update_session=False)
            return True

    def _kv_lock(self, idx, entry, session):
        if session == "":
            raise ApiError(500, "missing session")
        if session not in self._sessions:
            raise ApiError(500, "invalid session %s" % go_quote(session))
        existing = self._kv.get(entry.key)
        if existing is None:
            entry.lock_index = 1
        elif existing.session == session:
            entry.lock_index = existing.lock_index
        elif existing.session:
            return False
        else:
            entry.lock_index = existing.lock_index + 1
        entry.session = session
        self._kv_write(idx, entry, update_session=True)
        return True

    def _kv_unlock(self, idx, entry, session):
        existing = self._kv.get(entry.key)
        if existing is None or existing.session != session:
            return False
        entry.lock_index = existing.lock_index
        entry.session = ""
        self._kv_write(idx, entry, update_session=True)
        return True

    def _kv_write(self, idx, entry, update_session):
        """consul: kvsSetTxn. A plain set keeps the holder but not the
        LockIndex; a write that changes nothing is skipped."""
        existing = self._kv.get(entry.key)
        entry.create_index = existing.create_index if existing else idx
        if not update_session:
            entry.session = existing.session if existing else ""
        if existing is not None and existing.same_content(entry):
            return
        entry.modify_index = idx
        self._kv[entry.key] = entry
        self._tables["kvs"] = idx
        self._touch("kv:" + entry.key)

    def kv_delete(self, key, recurse=False, cas=None):
        with self._lock:
            idx = self._next_index()
            if recurse:
                doomed = [k for k in self._kv if k.startswith(key)]
                for k in doomed:
                    del self._kv[k]
                    self._touch("kv:" + k)
                if doomed:
                    self._bury(key, idx)
                return True
            existing = self._kv.get(key)
            if cas is not None and existing is not None and \
                    existing.modify_index != cas:
                return False
            self._kv_delete_key(key, idx)
            return True

    def _kv_delete_key(self, key, idx):
        if self._kv.pop(key, None) is not None:
            self._touch("kv:" + key)
            self._bury(key, idx)

    def _bury(self, key, idx):
        self._tombstones[key] = idx
        self._tables["kvs"] = self._tables["tombstones"] = idx

    def kv_txn(self, ops):
        """(results, errors) of a transaction of KV ops, each a dict of
        verb, key, value (bytes or None), flags, index, session. Every op
        runs and each failure is reported; any failure rolls all back.
        consul: agent/consul/state/txn.go txnDispatch and txnKVS."""
        with self._lock:
            saved = (dict(self._kv), dict(self._tombstones), dict(self._tables))
            # consul: txn_endpoint.go isWrite; reads alone skip raft.
            writes = any(op["verb"] in TXN_WRITE_VERBS for op in ops)
            idx = self._next_index() if writes else self._raft_index
            results, errors = [], []
            for i, op in enumerate(ops):
                try:
                    results += self._txn_kv(idx, op)
                except ApiError as err:
                    errors.append({"OpIndex": i, "What": err.text})
            if errors:
                self._kv, self._tombstones, self._tables = saved
                return None, errors
            return results, None

    def _txn_kv(self, idx, op):
        verb, key = op["verb"], op["key"]
        existing = self._kv.get(key)
        quoted = go_quote(key)
        if verb == "set":
            self._kv_write(idx, KvEntry(key, op["value"], op["flags"]), False)
        elif verb == "cas":
            if (existing.modify_index if existing else 0) != op["index"]:
                raise ApiError(409, "failed to set key %s, index is stale" % quoted)
            self._kv_write(idx, KvEntry(key, op["value"], op["flags"]), False)
        elif verb == "delete":
            self._kv_delete_key(key, idx)
            return []
        elif verb == "delete-cas":
            if existing is not None and existing.modify_index != op["index"]:
                raise ApiError(409, "failed to delete key %s, index is stale"
                               % quoted)
            self._kv_delete_key(key, idx)
            return []
        elif verb == "get":
            if existing is None:
                raise ApiError(409, "key %s doesn't exist" % quoted)
            return [{"KV": existing.to_json()}]
        elif verb == "check-session":
            if existing is None:
                raise ApiError(409, "failed to check session, key %s doesn't "
                               "exist" % quoted)
            if existing.session != op["session"]:
                raise ApiError(409, "failed session check for key %s, current "
                               "session %s != %s" % (quoted, go_quote(
                                   existing.session), go_quote(op["session"])))
        elif verb == "check-index":
            if existing is None:
                raise ApiError(409, "failed to check index, key %s doesn't "
                               "exist" % quoted)
            if existing.modify_index != op["index"]:
                raise ApiError(409, "failed index check for key %s, current "
                               "modify index %d != %d" % (
                                   quoted, existing.modify_index, op["index"]))
        elif verb == "check-not-exists":
            if existing is not None:
                raise ApiError(409, "key %s exists" % quoted)
            return []
        else:
            raise ApiError(409, "unknown KV verb %s" % go_quote(verb))
        entry = self._kv.get(key)
        out = entry.to_json()
        out["Value"] = None  # consul: only get returns the value
        return [{"KV": out}]


class ConsulState(KvMixin, SessionMixin, CatalogMixin, StateCore):
    """Everything one dev agent holds. Thread-safe: every public method
    takes the state lock (reads run under blocking_read, which holds it)."""

    def __init__(self, node_name, ttl_factor, scheduler):
        StateCore.__init__(self, node_name, ttl_factor, scheduler)
        with self._lock:
            self._init_kv()
            self._init_sessions()
            self._init_catalog()


# --------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    path_args: dict
    query: list  # (name, value) pairs, in order
    body: bytes
    content_length: int  # -1 for a chunked body, as in Go

    def has(self, name):
        return any(k == name for k, _ in self.query)

    def get(self, name):
        return next((v for k, v in self.query if k == name), "")

    def all(self, name):
        return [v for k, v in self.query if k == name]


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list = field(default_factory=list)
    from_endpoint: bool = True  # False for Go's mux "404 page not found"


def json_response(obj, index=None, extra_headers=()):
    headers = [("Content-Type", "application/json")]
    if index is not None:
        headers += query_meta(index)
    return Response(200, go_json(obj), headers + list(extra_headers))


def query_meta(index):
    """consul: agent/http.go setMeta, as a leader answers."""
    return [("X-Consul-Index", str(index)), ("X-Consul-Knownleader", "true"),
            ("X-Consul-Lastcontact", "0")]


def parse_uint(text):
    """strconv.ParseUint(text, 10, 64), errors as Go words them."""
    if not re.fullmatch(r"[0-9]+", text) or int(text) >= 2 ** 64:
        kind = "value out of range" if text.isdigit() else "invalid syntax"
        raise ApiError(500, "strconv.ParseUint: parsing %s: %s"
                       % (go_quote(text), kind))
    return int(text)


def blocking_params(req):
    """(min_index, wait seconds). consul: agent/http.go parseWait, and
    blockingQuery's default, maximum and random stagger of wait/16."""
    wait = DEFAULT_QUERY_TIME
    if req.get("wait"):
        try:
            wait = parse_go_duration(req.get("wait")) / SECOND
        except ValueError:
            raise ApiError(400, "Invalid wait time") from None
    min_index = 0
    if req.get("index"):
        if not re.fullmatch(r"[0-9]+", req.get("index")):
            raise ApiError(400, "Invalid index")
        min_index = int(req.get("index"))
    if wait > MAX_QUERY_TIME:
        wait = MAX_QUERY_TIME
    elif wait <= 0:
        wait = DEFAULT_QUERY_TIME
    return min_index, wait + random.uniform(0, wait / 16)


def bool_param(req, name):
    """consul: agent/http.go getBoolQueryParam (strconv.ParseBool)."""
    if not req.has(name):
        return False
    value = req.get(name)
    if value == "":
        return True
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ApiError(400, "Invalid value for ?%s" % name)


# ---- status

def handle_status_leader(state, req):
    return json_response(NODE_ADDRESS + ":8300" if state.leader else "")


def handle_status_peers(state, req):
    return json_response([NODE_ADDRESS + ":8300"])


# ---- agent

def _check_definition(obj, struct):
    fields = Fields(obj, struct)
    unsupported = [k for k in ("HTTP", "TCP", "GRPC", "Args", "ScriptArgs",
                               "DockerContainerID", "AliasService", "Shell")
                   if fields.raw(k) not in (_ABSENT, None, "", [])]
    if unsupported:
        raise ApiError(400, "consul-double supports TTL checks only, not %s"
                       % ", ".join(unsupported))
    definition = CheckDefinition(
        check_id=fields.string("CheckID", aliases=("check_id",)),
        name=fields.string("Name"), status=fields.string("Status"),
        notes=fields.string("Notes"), ttl=fields.duration("TTL"),
        deregister_after=fields.duration(
            "DeregisterCriticalServiceAfter",
            aliases=("deregister_critical_service_after",)))
    empty = definition == CheckDefinition()
    if not empty and definition.ttl <= 0:
        # consul: structs/check_type.go CheckType.Validate
        raise ApiError(400, "Invalid check: TTL must be > 0 for TTL checks")
    if definition.status and definition.status not in HEALTH_STATES:
        raise ApiError(400, "Status for checks must 'passing', 'warning', "
                       "'critical'")
    return None if empty else definition


def _service_from(fields):
    weights = fields.raw("Weights")
    svc = Service(
        id=fields.string("ID") or fields.string("Name"),
        name=fields.string("Name"), tags=fields.string_list("Tags", None),
        address=fields.string("Address"), port=fields.integer("Port"),
        meta=fields.string_map("Meta"),
        enable_tag_override=fields.boolean(
            "EnableTagOverride", aliases=("enable_tag_override",)))
    if isinstance(weights, dict):
        weights = Fields(weights, "Weights")
        svc.weights = {"Passing": weights.integer("Passing"),
                       "Warning": weights.integer("Warning")}
    return svc


def handle_agent_register(state, req):
    """consul: agent/agent_endpoint.go AgentRegisterService."""
    fields = Fields(decode_body(req.body, "structs.ServiceDefinition"),
                    "ServiceDefinition")
    if not fields.string("Name"):
        raise ApiError(400, "Missing service name")
    svc = _service_from(fields)
    definitions = []
    check = fields.raw("Check")
    if isinstance(check, dict):
        definitions.append(_check_definition(check, "CheckType"))
    checks = fields.raw("Checks")
    if isinstance(checks, list):
        definitions += [_check_definition(c, "CheckType")
                        for c in checks if isinstance(c, dict)]
    definitions = [d for d in definitions if d is not None]
    state.register_service(svc, definitions,
                           bool_param(req, "replace-existing-checks"))
    return Response()


def handle_agent_deregister(state, req):
    state.deregister_service(req.path_args["id"])
    return Response()


def handle_check_update(state, req):
    """consul: agent/agent_endpoint.go AgentCheckUpdate."""
    fields = Fields(decode_body(req.body, "agent.checkUpdate"),
                    "checkUpdate")
    status = fields.string("Status")
    if status not in HEALTH_STATES:
        raise ApiError(400, "Invalid check status: '%s'" % status)
    state.update_ttl_check(req.path_args["id"], status,
                           fields.string("Output"))
    return Response()


def handle_check_verb(state, req):
    status = {"pass": "passing", "warn": "warning",
              "fail": "critical"}[req.path_args["verb"]]
    state.update_ttl_check(req.path_args["id"], status, req.get("note"))
    return Response()


# ---- health and catalog

def handle_health_service(state, req):
    passing = bool_param(req, "passing")
    name, tags = req.path_args["name"], req.all("tag")
    min_index, wait = blocking_params(req)
    index, entries = state.blocking_read(
        lambda: state.health_service(name, tags, passing), min_index, wait,
        scopes=("service:" + name.lower(),))
    return json_response(entries, index)


def handle_catalog_service(state, req):
    name, tags = req.path_args["name"], req.all("tag")
    min_index, wait = blocking_params(req)
    index, entries = state.blocking_read(
        lambda: state.catalog_service(name, tags), min_index, wait,
        scopes=("service:" + name.lower(),))
    return json_response(entries, index,
                         [("X-Consul-Effective-Consistency", "leader")])


# ---- sessions

def _session_request(state, req):
    request = SessionRequest(node=state.node_name)
    if req.content_length <= 0:
        # consul: SessionCreate decodes only when ContentLength > 0, so a
        # chunked body is ignored.
        return request
    fields = Fields(decode_body(req.body, "structs.Session"), "Session")
    request.name = fields.string("Name")
    request.node = fields.string("Node", request.node)
    request.behavior = fields.string("Behavior", request.behavior)
    request.ttl = fields.string("TTL")
    request.lock_delay = _lock_delay(fields, request.lock_delay)
    request.node_checks = fields.string_list("NodeChecks",
                                             request.node_checks)
    request.checks = fields.string_list("Checks", request.checks)
    service_checks = fields.raw("ServiceChecks")
    if isinstance(service_checks, list):
        request.service_checks = [
            {"ID": Fields(c, "ServiceCheck").string("ID"),
             "Namespace": Fields(c, "ServiceCheck").string("Namespace")}
            for c in service_checks if isinstance(c, dict)]
    request.fix_up_checks()
    return request


def _lock_delay(fields, default):
    """consul: structs.Session.UnmarshalJSON: a duration string or a
    number of nanoseconds; values under 1000 are taken as seconds."""
    raw = fields.raw("LockDelay")
    if raw is _ABSENT:
        return default
    delay = 0
    if isinstance(raw, str):
        try:
            delay = parse_go_duration(raw)
        except ValueError as err:
            raise ApiError(400, "Request decode failed: %s" % err) from None
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        delay = int(raw)
    return delay * SECOND if delay < LOCK_DELAY_MIN_THRESHOLD else delay


def handle_session_create(state, req):
    session_id = state.create_session(_session_request(state, req))
    return json_response({"ID": session_id})


def _session_id(req):
    if not req.path_args["id"]:
        raise ApiError(400, "Missing session")
    return req.path_args["id"]


def handle_session_destroy(state, req):
    state.destroy_session(_session_id(req))
    return json_response(True)


def handle_session_renew(state, req):
    session_id = _session_id(req)
    renewed = state.renew_session(session_id)
    if renewed is None:
        raise ApiError(404, "Session id '%s' not found" % session_id)
    return json_response([renewed])


def handle_session_info(state, req):
    session_id = _session_id(req)
    min_index, wait = blocking_params(req)
    index, sessions = state.blocking_read(
        lambda: state.session_info(session_id), min_index, wait,
        scopes=("session:" + session_id,))
    return json_response(sessions, index)


def handle_session_list(state, req):
    min_index, wait = blocking_params(req)
    index, sessions = state.blocking_read(state.session_list, min_index,
                                          wait, scopes=("sessions",))
    return json_response(sessions, index)


# ---- key/value

def handle_kv(state, req):
    """consul: agent/kvs_endpoint.go KVSEndpoint."""
    if req.method == "GET":
        return _kv_get(state, req)
    if req.method == "PUT":
        return _kv_put(state, req)
    return _kv_delete(state, req)


def _conflicting(req, *flags):
    if sum(1 for f in flags if req.has(f)) > 1:
        raise ApiError(400, "Conflicting flags: %s\n" % urlencode(
            sorted(req.query)))


def _kv_get(state, req):
    key = req.path_args["key"]
    min_index, wait = blocking_params(req)
    if req.has("keys"):
        index, keys = state.blocking_read(
            lambda: state.kv_keys(key, req.get("separator")), min_index,
            wait, prefix=key)
        if not keys and key:
            return Response(404, headers=query_meta(index))
        return json_response(keys, index)
    if req.has("recurse"):
        index, entries = state.blocking_read(
            lambda: state.kv_list(key), min_index, wait, prefix=key)
    elif not key:
        raise ApiError(400, "Missing key name")
    else:
        index, entry = state.blocking_read(
            lambda: state.kv_get(key), min_index, wait,
            scopes=("kv:" + key,))
        entries = [entry] if entry else []
    if not entries:
        return Response(404, headers=query_meta(index))
    if req.has("raw") and not req.has("recurse"):
        return Response(200, entries[0].value or b"", query_meta(index))
    return json_response([e.to_json() for e in entries], index)


def _kv_put(state, req):
    key = req.path_args["key"]
    if not key:
        raise ApiError(400, "Missing key name")
    _conflicting(req, "cas", "acquire", "release")
    flags = parse_uint(req.get("flags")) if req.has("flags") else 0
    op, session, cas = "set", "", 0
    if req.has("cas"):
        op, cas = "cas", parse_uint(req.get("cas"))
    if req.has("acquire"):
        op, session = "lock", req.get("acquire")
    if req.has("release"):
        op, session = "unlock", req.get("release")
    if req.content_length > KV_MAX_VALUE_SIZE:
        raise ApiError(413, (
            "Request body(%d bytes) too large, max size: %d bytes. See "
            "https://www.consul.io/docs/agent/options.html#kv_max_value_size."
        ) % (req.content_length, KV_MAX_VALUE_SIZE))
    entry = KvEntry(key=key, value=req.body or None, flags=flags)
    return json_response(state.kv_put(op, entry, session, cas))


def _kv_delete(state, req):
    key = req.path_args["key"]
    _conflicting(req, "recurse", "cas")
    recurse = req.has("recurse")
    if not recurse and not key:
        raise ApiError(400, "Missing key name")
    cas = parse_uint(req.get("cas")) if req.has("cas") else None
    return json_response(state.kv_delete(key, recurse, cas))


TXN_MAX_OPS = 64


def _txn_field(obj, name):
    """Go's encoding/json matches field names case-insensitively."""
    return next((v for k, v in obj.items() if k.lower() == name.lower()), None)


def handle_txn(state, req):
    """consul: agent/txn_endpoint.go Txn (KV operations only)."""
    try:
        raw_ops = json.loads(req.body or b"null")
    except ValueError as err:
        raise ApiError(400, "Failed to parse body: %s" % err) from None
    if not isinstance(raw_ops, list):
        raise ApiError(400, "Failed to parse body: json: cannot unmarshal "
                       "object into Go value of type api.TxnOps")
    if len(raw_ops) > TXN_MAX_OPS:
        raise ApiError(413, "Transaction contains too many operations (%d > %d)"
                       % (len(raw_ops), TXN_MAX_OPS))
    ops = []
    for raw in raw_ops:
        kv = _txn_field(raw, "KV") if isinstance(raw, dict) else None
        if not isinstance(kv, dict):
            raise ApiError(500, "The double models only KV operations")
        value = _txn_field(kv, "Value")
        try:
            value = None if value is None else base64.b64decode(value,
                                                                validate=True)
        except (ValueError, TypeError):
            raise ApiError(400, "Failed to parse body: failed to decode value"
                           ) from None
        ops.append({"verb": _txn_field(kv, "Verb") or "",
                    "key": _txn_field(kv, "Key") or "",
                    "value": value,
                    "flags": _txn_field(kv, "Flags") or 0,
                    "index": _txn_field(kv, "Index") or 0,
                    "session": _txn_field(kv, "Session") or ""})
    results, errors = state.kv_txn(ops)
    headers = [("Content-Type", "application/json")]
    if not any(op["verb"] in TXN_WRITE_VERBS for op in ops):
        # consul: the read-only path sets these, never X-Consul-Index.
        headers += [("X-Consul-Knownleader", "true"), ("X-Consul-Lastcontact", "0")]
    if errors:
        return Response(409, go_json({"Results": None, "Errors": errors}), headers)
    return Response(200, go_json({"Results": results, "Errors": None}), headers)


ROUTES = [
    (r"/v1/status/leader", ("GET",), handle_status_leader),
    (r"/v1/status/peers", ("GET",), handle_status_peers),
    (r"/v1/agent/service/register", ("PUT",), handle_agent_register),
    (r"/v1/agent/service/deregister/(?P<id>.*)", ("PUT",),
     handle_agent_deregister),
    (r"/v1/agent/check/update/(?P<id>.*)", ("PUT",), handle_check_update),
    (r"/v1/agent/check/(?P<verb>pass|warn|fail)/(?P<id>.*)", ("PUT",),
     handle_check_verb),
    (r"/v1/health/service/(?P<name>.+)", ("GET",), handle_health_service),
    (r"/v1/catalog/service/(?P<name>.+)", ("GET",), handle_catalog_service),
    (r"/v1/session/create", ("PUT",), handle_session_create),
    (r"/v1/session/destroy/(?P<id>.*)", ("PUT",), handle_session_destroy),
    (r"/v1/session/renew/(?P<id>.*)", ("PUT",), handle_session_renew),
    (r"/v1/session/info/(?P<id>.*)", ("GET",), handle_session_info),
    (r"/v1/session/list", ("GET",), handle_session_list),
    (r"/v1/kv/(?P<key>.*)", ("GET", "PUT", "DELETE"), handle_kv),
    (r"/v1/txn", ("PUT",), handle_txn),
]


def route(state, method, path, query, body, content_length):
    """Finds and runs the handler; errors become plain-text answers."""
    for pattern, methods, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match is None:
            continue
        if method == "OPTIONS" or method not in methods:
            # consul: agent/http.go wrap, MethodNotAllowedError
            allow = [("Allow", m) for m in ("OPTIONS",) + methods]
            if method == "OPTIONS":
                return Response(200, headers=allow)
            return Response(405, ("method %s not allowed" % method).encode(),
                            allow)
        req = Request(method, match.groupdict(), query, body, content_length)
        try:
            if req.get("dc") not in ("", DATACENTER):
                raise ApiError(500, "No path to datacenter")
            if not path.startswith(("/v1/agent/", "/v1/status/")):
                state.wait_for_leader()
            return handler(state, req)
        except ApiError as err:
            return Response(err.status, err.text.encode("utf-8"))
    return Response(404, b"404 page not found\n",
                    [("Content-Type", "text/plain; charset=utf-8"),
                     ("X-Content-Type-Options", "nosniff")],
                    from_endpoint=False)


class ConsulHandler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 like Go's net/http: a Date header, no Server header,
    a sniffed Content-Type for bodies written without one."""

    protocol_version = "HTTP/1.1"
    # Go's net/http sets TCP_NODELAY; without it a response written as headers
    # then body stalls ~40 ms on a kept-alive connection (Nagle + delayed ACK).
    disable_nagle_algorithm = True

    def do_GET(self):
        self._serve()

    do_PUT = do_POST = do_DELETE = do_OPTIONS = do_GET

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks), -1
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length), length

    def _serve(self):
        body, length = self._read_body()
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        try:
            resp = route(self.server.state, self.command, unquote(parts.path),
                         query, body, length)
        except Exception as err:  # a bug in the double: say so, stay up
            resp = Response(500, ("consul-double internal error: %r" %
                                  err).encode())
        self._send(resp)

    def _send(self, resp):
        headers = list(resp.headers)
        if resp.from_endpoint:
            headers.insert(0, ("X-Consul-Default-Acl-Policy", "allow"))
        if resp.body and not any(k == "Content-Type" for k, _ in headers):
            headers.append(("Content-Type", sniff_content_type(resp.body)))
        self.send_response_only(resp.status)
        self.log_request(resp.status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            super().log_message(fmt, *args)


class ConsulServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state, quiet):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.quiet = quiet
        super().__init__(address, ConsulHandler)

    def server_bind(self):
        # HTTPServer.server_bind would also run a slow reverse-DNS lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8500,
                        help="0 picks a free port")
    parser.add_argument("--ttl-factor", type=float, default=1.0,
                        help="multiplies check TTLs, session TTL "
                        "invalidation (2 x TTL), lock-delays and the other "
                        "agent timers; e.g. 0.1 to run ten times faster")
    parser.add_argument("--node", default=socket.gethostname(),
                        help="node name (default: the host name, as Consul)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not log requests to stderr")
    args = parser.parse_args(argv)
    if args.ttl_factor <= 0:
        parser.error("--ttl-factor must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    scheduler = Scheduler()
    state = ConsulState(args.node, args.ttl_factor, scheduler)
    server = ConsulServer((args.addr, args.port), state, args.quiet)
    host, port = server.server_address[:2]
    host = "[%s]" % host if ":" in host else host
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def leadership(signum, _frame):
        lost = signum == signal.SIGUSR1
        (state.lose_leader if lost else state.elect_leader)()
        print("consul-double: %s" % ("leader lost" if lost else "leader elected"),
              file=sys.stderr, flush=True)
    signal.signal(signal.SIGUSR1, leadership)
    signal.signal(signal.SIGUSR2, leadership)
    worker = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.1}, daemon=True)
    worker.start()
    print("consul-double listening on http://%s:%d" % (host, port),
          flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
