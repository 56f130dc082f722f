#!/usr/bin/env python3
"""ContainerPilot 3 stand-in for the `manage` test world.

Behaves as shared/reference/containerpilot.md describes stock ContainerPilot 3:
a Go-templated JSON5 configuration, jobs with health checks, registration and
TTL heartbeats in Consul, watches, the hook environment, SIGTERM handling and
the control socket.  Python 3 standard library only.

Command line, as the real binary:
    containerpilot -config /etc/containerpilot.json5      (or env CONTAINERPILOT)
    containerpilot -reload | -putenv K=V | -putmetric name=value
    containerpilot -maintenance enable|disable | -ping | -template | -version

Threads: one per job (its event loop), one per watch and timer, one reaper
for every child process, plus the control and telemetry HTTP servers.  Jobs
talk to each other only through the event bus, as in the real program.
"""

import argparse
import collections
import ctypes
import datetime
import fcntl
import http.client
import http.server
import ipaddress
import json
import os
import queue
import re
import shutil
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

VERSION = "3.8.0"
GIT_HASH = "stand-in"
DEFAULT_SOCKET = "/var/run/containerpilot.socket"
DEFAULT_STOP_TIMEOUT = 5.0
UNLIMITED = -1


class ConfigError(Exception):
    """The configuration cannot be rendered, parsed or validated."""


# --------------------------------------------------------------------------
# Go text/template subset ("Configuration file": rendered over the environment)
# --------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_EXPR_TOKEN = re.compile(r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<var>\$[A-Za-z0-9_]*)
    | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
    | (?P<dot>\.)
    | (?P<num>[+-]?\d+(?:\.\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[|()])
    )""", re.X)
_VARIABLE = re.compile(r"(\$[A-Za-z0-9_]+)\s*(:?=)\s*(.*)", re.S)
_NO_VALUE = object()


def _go_truth(value):
    """Go template truthiness: empty strings, zero, nil and empty lists are false."""
    return bool(value) and value is not _NO_VALUE


def _go_text(value):
    """Formats a value the way text/template prints it."""
    if value is None or value is _NO_VALUE:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_go_text(v) for v in value) + "]"
    return str(value)


def _tf_default(default, value=None):
    """`default`: the piped value unless it is empty (ContainerPilot extension)."""
    if isinstance(value, str) and value != "":
        return value
    return _go_text(default)


def _tf_split(sep, text):
    text = text.strip()
    return text.split(sep) if text else []


def _tf_regex_replace(pattern, repl, text):
    repl = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl)
    return re.sub(pattern, repl, text)


def _tf_printf(fmt, *args):
    return re.sub(r"%v", "%s", fmt) % args


_TEMPLATE_FUNCS = {
    "default": _tf_default,
    "env": lambda name: os.environ.get(name, ""),
    "split": _tf_split,
    "join": lambda sep, items: sep.join(items),
    "replaceAll": lambda old, new, text: text.replace(old, new),
    "regexReplaceAll": _tf_regex_replace,
    "not": lambda value: not _go_truth(value),
    "and": lambda *values: next((v for v in values if not _go_truth(v)), values[-1]),
    "or": lambda *values: next((v for v in values if _go_truth(v)), values[-1]),
    "eq": lambda a, *others: any(a == b for b in others),
    "ne": lambda a, b: a != b,
    "len": len,
    "printf": _tf_printf,
}


class TemplateError(ConfigError):
    """The configuration template uses syntax outside the supported subset."""


def _lex_template(text):
    """Splits text into ("text", s) and ("action", s) tokens, applying {{- -}}."""
    tokens, pos, trim_next = [], 0, False
    for match in _ACTION.finditer(text):
        chunk = text[pos:match.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if match.group(1):
            chunk = chunk.rstrip()
        if chunk:
            tokens.append(("text", chunk))
        body = match.group(2).strip()
        if not body.startswith("/*"):
            tokens.append(("action", body))
        trim_next, pos = bool(match.group(3)), match.end()
    tail = text[pos:]
    if trim_next:
        tail = tail.lstrip()
    if tail:
        tokens.append(("text", tail))
    return tokens


def _tokenize_expr(expr):
    tokens, pos = [], 0
    while pos < len(expr.rstrip()):
        match = _EXPR_TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise TemplateError(f"cannot parse template expression {expr!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return tokens


def _parse_pipeline(tokens, i=0):
    """pipeline := command ('|' command)*; command := operand+."""
    commands, command = [], []
    while i < len(tokens) and tokens[i] != ("punct", ")"):
        kind, value = tokens[i]
        if (kind, value) == ("punct", "|"):
            commands.append(command)
            command = []
        elif (kind, value) == ("punct", "("):
            sub, i = _parse_pipeline(tokens, i + 1)
            if i >= len(tokens):
                raise TemplateError("unclosed '(' in template")
            command.append(("pipe", sub))
        else:
            command.append((kind, value))
        i += 1
    commands.append(command)
    if any(not c for c in commands):
        raise TemplateError("empty command in template pipeline")
    return commands, i


def _compile_expr(expr):
    tokens = _tokenize_expr(expr)
    pipeline, end = _parse_pipeline(tokens)
    if end != len(tokens):
        raise TemplateError(f"unexpected ')' in {expr!r}")
    return pipeline


class _Context:
    """Data of one rendering: the environment and the variables in scope."""

    def __init__(self, env, scope):
        self.env, self.scope = env, scope

    def child(self):
        return _Context(self.env, self.scope.new_child())


def _eval_operand(operand, ctx):
    kind, value = operand
    if kind == "field":
        return ctx.env.get(value[1:], "")
    if kind == "dot":
        return ctx.env
    if kind == "var":
        if value not in ctx.scope:
            raise TemplateError(f"undefined variable: {value}")
        return ctx.scope[value]
    if kind == "str":
        return json.loads(value)
    if kind == "raw":
        return value[1:-1]
    if kind == "num":
        return float(value) if "." in value else int(value)
    if kind == "pipe":
        return _eval_pipeline(value, ctx)
    if kind == "ident" and value in ("true", "false", "nil"):
        return {"true": True, "false": False, "nil": None}[value]
    raise TemplateError(f"unexpected {value!r} in template")


def _eval_command(command, ctx, piped):
    kind, name = command[0]
    if kind == "ident" and name not in ("true", "false", "nil"):
        if name not in _TEMPLATE_FUNCS:
            raise TemplateError(f'function "{name}" not defined')
        args = [_eval_operand(op, ctx) for op in command[1:]]
        if piped is not _NO_VALUE:
            args.append(piped)
        try:
            return _TEMPLATE_FUNCS[name](*args)
        except (TypeError, ValueError, IndexError, re.error) as err:
            raise TemplateError(f"error calling {name}: {err}") from err
    if len(command) > 1 or piped is not _NO_VALUE:
        raise TemplateError(f"can't give argument to non-function {name}")
    return _eval_operand(command[0], ctx)


def _eval_pipeline(pipeline, ctx):
    value = _NO_VALUE
    for command in pipeline:
        value = _eval_command(command, ctx, value)
    return value


def _first_word(action):
    return action.split(None, 1)[0] if action else ""


def _parse_nodes(tokens, i, closers):
    """Builds the template tree until one of `closers` ("else", "end")."""
    nodes = []
    while i < len(tokens):
        kind, value = tokens[i]
        word = _first_word(value) if kind == "action" else None
        if kind == "text":
            nodes.append(value)
        elif word in closers:
            return nodes, i
        elif word == "if":
            node, i = _parse_if(tokens, i)
            nodes.append(node)
            continue
        elif _VARIABLE.fullmatch(value):
            name, operator, expr = _VARIABLE.fullmatch(value).groups()
            nodes.append(("set", name, operator, _compile_expr(expr)))
        elif word in ("else", "end", "range", "with", "define", "template",
                      "block"):
            raise TemplateError(f"unsupported or unexpected {{{{{value}}}}}")
        else:
            nodes.append(("out", _compile_expr(value)))
        i += 1
    if closers:
        raise TemplateError("unexpected EOF: missing {{ end }}")
    return nodes, i


def _parse_if(tokens, i):
    """{{ if P }}…{{ else if P }}…{{ else }}…{{ end }}."""
    branches, condition = [], tokens[i][1][2:].strip()
    i += 1
    while True:
        body, i = _parse_nodes(tokens, i, ("else", "end"))
        branches.append((_compile_expr(condition), body))
        action = tokens[i][1]
        i += 1
        if action == "end":
            return ("if", branches, []), i
        rest = action[4:].strip()
        if _first_word(rest) == "if":
            condition = rest[2:].strip()
            continue
        if rest:
            raise TemplateError(f"unexpected {{{{{action}}}}}")
        else_body, i = _parse_nodes(tokens, i, ("end",))
        if tokens[i][1] != "end":
            raise TemplateError("expected {{ end }}")
        return ("if", branches, else_body), i + 1


def _set_variable(ctx, name, operator, pipeline):
    """{{ $x := P }} declares in the current block; {{ $x = P }} assigns."""
    value = _eval_pipeline(pipeline, ctx)
    if operator == ":=":
        ctx.scope[name] = value
        return
    for scope in ctx.scope.maps:
        if name in scope:
            scope[name] = value
            return
    raise TemplateError(f"undefined variable: {name}")


def _exec_nodes(nodes, ctx, out):
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "out":
            out.append(_go_text(_eval_pipeline(node[1], ctx)))
        elif node[0] == "set":
            _set_variable(ctx, *node[1:])
        else:
            _, branches, else_body = node
            for condition, body in branches:
                if _go_truth(_eval_pipeline(condition, ctx)):
                    _exec_nodes(body, ctx.child(), out)
                    break
            else:
                _exec_nodes(else_body, ctx.child(), out)


def render_template(text, env):
    """Renders the Go-template subset over env (missing keys render empty)."""
    nodes, _ = _parse_nodes(_lex_template(text), 0, ())
    out = []
    _exec_nodes(nodes, _Context(env, collections.ChainMap({"$": env})), out)
    return "".join(out)


# --------------------------------------------------------------------------
# JSON5 ("Configuration file": unquoted keys, comments, trailing commas)
# --------------------------------------------------------------------------

_JSON5_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F]+|Infinity|NaN|"
    r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JSON5_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_JSON5_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                  "v": "\v", "0": "\0", "\n": "", "\r": ""}


class _Json5Parser:
    """Recursive-descent JSON5 reader producing plain Python values."""

    def __init__(self, text):
        self.text, self.pos = text, 0

    def error(self, message):
        line = self.text.count("\n", 0, self.pos) + 1
        col = self.pos - self.text.rfind("\n", 0, self.pos)
        return ConfigError(f"parse error at line:col [{line}:{col}]: {message}")

    def skip(self):
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated comment")
                self.pos = end + 2
            else:
                return

    def peek(self):
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self):
        value = self.value()
        if self.peek():
            raise self.error(f"unexpected {self.peek()!r} after value")
        return value

    def value(self):
        char = self.peek()
        if char == "{":
            return self.container("}", self.member, {})
        if char == "[":
            return self.container("]", self.element, [])
        if char in "\"'":
            return self.string()
        match = _JSON5_NUMBER.match(self.text, self.pos)
        if match:
            return self.number(match)
        word = _JSON5_IDENT.match(self.text, self.pos)
        literals = {"true": True, "false": False, "null": None}
        if word and word.group() in literals:
            self.pos = word.end()
            return literals[word.group()]
        raise self.error(f"unexpected {char or 'end of input'!r}")

    def container(self, closer, read_item, result):
        self.pos += 1
        while self.peek() != closer:
            read_item(result)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != closer:
                raise self.error(f"expected ',' or {closer!r}")
        self.pos += 1
        return result

    def element(self, result):
        result.append(self.value())

    def member(self, result):
        if self.peek() in "\"'":
            key = self.string()
        else:
            match = _JSON5_IDENT.match(self.text, self.pos)
            if not match:
                raise self.error("expected an object key")
            key, self.pos = match.group(), match.end()
        if self.peek() != ":":
            raise self.error(f"expected ':' after key {key!r}")
        self.pos += 1
        result[key] = self.value()

    def number(self, match):
        self.pos = match.end()
        text = match.group()
        digits = text.lstrip("+-")
        sign = -1 if text.startswith("-") else 1
        if digits[:2].lower() == "0x":
            return sign * int(digits, 16)
        if digits in ("Infinity", "NaN"):
            return sign * float(digits.replace("Infinity", "inf"))
        if re.fullmatch(r"\d+", digits):
            return sign * int(digits)
        return float(text)

    def string(self):
        quote, chars = self.text[self.pos], []
        self.pos += 1
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(chars)
            if char == "\n":
                raise self.error("newline in string")
            chars.append(self.escape() if char == "\\" else char)

    def escape(self):
        char = self.text[self.pos:self.pos + 1]
        self.pos += 1
        if char in ("u", "x"):
            width = 4 if char == "u" else 2
            digits = self.text[self.pos:self.pos + width]
            if not re.fullmatch(r"[0-9a-fA-F]{%d}" % width, digits):
                raise self.error(f"bad \\{char} escape")
            self.pos += width
            return chr(int(digits, 16))
        if char == "\r" and self.text.startswith("\n", self.pos):
            self.pos += 1
        return _JSON5_ESCAPES.get(char, char)


def parse_json5(text):
    """Parses JSON5 text; raises ConfigError with line:col on bad input."""
    return _Json5Parser(text).parse()


# --------------------------------------------------------------------------
# Durations and interfaces ("A job: …", "interfaces: ["static:…"]")
# --------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0,
                   "m": 60.0, "h": 3600.0}


def parse_duration(value, what="duration"):
    """Go duration ("1m30s", "500ms") or a bare number of seconds -> seconds."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise ConfigError(f"invalid {what} {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or pos != len(text):
        raise ConfigError(f"invalid {what} {value!r}")
    return total


def interface_ipv4s():
    """[(interface, ipv4)] sorted by name then address, as ContainerPilot orders them."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(sock.fileno(), 0x8915, request)  # SIOCGIFADDR
            except OSError:
                continue
            found.append((name, socket.inet_ntoa(reply[20:24])))
    return sorted(found, key=lambda item: (item[0], socket.inet_aton(item[1])))


def _spec_matches(spec, index, name, ip):
    if spec in ("inet", "*:inet"):
        return not ipaddress.ip_address(ip).is_loopback
    match = re.fullmatch(r"(\w+)(?:\[(\d+)\]|:(inet6?))?", spec)
    if match:
        if match.group(3) == "inet6":
            return False  # IPv6 addresses are not looked up
        wanted = match.group(2)
        return name == match.group(1) and (wanted is None or int(wanted) == index)
    return ipaddress.ip_address(ip) in ipaddress.ip_network(spec, strict=False)


def resolve_ip(raw_specs):
    """First address matching the interface specs; 127.0.0.1 when none match."""
    specs = [raw_specs] if isinstance(raw_specs, str) else list(raw_specs or [])
    specs = specs or ["eth0:inet", "inet"]
    addresses = interface_ipv4s()
    for spec in specs:
        if spec.startswith("static:"):
            try:
                return str(ipaddress.ip_address(spec[len("static:"):]))
            except ValueError as err:
                raise ConfigError(f"unable to parse static ip in {spec}") from err
        counts = collections.Counter()
        for name, ip in addresses:
            try:
                if _spec_matches(spec, counts[name], name, ip):
                    return ip
            except ValueError as err:
                raise ConfigError(f"unable to parse interface spec: {spec}") from err
            counts[name] += 1
    return "127.0.0.1"


# --------------------------------------------------------------------------
# Configuration model ("Configuration file", "A job: …")
# --------------------------------------------------------------------------

Event = collections.namedtuple("Event", "code source")
EVENT_CODES = ("exitSuccess", "exitFailed", "stopping", "stopped", "healthy",
               "unhealthy", "changed", "timerExpired", "enterMaintenance",
               "exitMaintenance", "startup", "shutdown")
GLOBAL = "global"
STARTUP = Event("startup", GLOBAL)
SHUTDOWN = Event("shutdown", GLOBAL)
ENTER_MAINTENANCE = Event("enterMaintenance", GLOBAL)
EXIT_MAINTENANCE = Event("exitMaintenance", GLOBAL)
_SERVICE_NAME = re.compile(r"[a-z][a-zA-Z0-9\-]+")
_TOP_LEVEL_KEYS = {"consul", "logging", "control", "stopTimeout", "jobs",
                   "watches", "telemetry"}


class JobConfig:
    """One validated entry of `jobs` (or the telemetry job)."""

    def __init__(self, raw, stop_default):
        if not isinstance(raw, dict):
            raise ConfigError("each job must be an object")
        self.exec_args = parse_exec(raw.get("exec"), "exec")
        self.name = raw.get("name") or (self.exec_args or [""])[0]
        if not self.name:
            raise ConfigError("job name must be set")
        self.port = int(raw.get("port") or 0)
        self.tags = list(raw.get("tags") or [])
        self.raw_logging = bool((raw.get("logging") or {}).get("raw"))
        self._parse_health(raw.get("health"))
        self._parse_when(raw.get("when"))
        self._parse_timing(raw, stop_default)
        self._parse_service(raw)

    def _parse_health(self, health):
        if health is not None and not isinstance(health, dict):
            raise ConfigError(f"job[{self.name}].health must be an object")
        if self.port and health is None and self.name != "containerpilot":
            raise ConfigError(f"job[{self.name}].health must be set if 'port' is set")
        if health is None:
            self.check_args, self.heartbeat, self.ttl = None, 0.0, 0
            self.check_timeout = 0.0
            return
        self.heartbeat = parse_duration(health.get("interval"), "health.interval")
        self.ttl = health.get("ttl") or 0
        if self.heartbeat <= 0 or not isinstance(self.ttl, (int, float)) or self.ttl <= 0:
            raise ConfigError(f"job[{self.name}].health interval and ttl must be > 0")
        self.check_args = parse_exec(health.get("exec"), "health.exec")
        self.check_timeout = parse_duration(health.get("timeout"), "health.timeout")

    def _parse_when(self, when):
        when = when or {}
        picked = [k for k in ("interval", "once", "each") if when.get(k)]
        if len(picked) > 1:
            raise ConfigError(f"job[{self.name}].when can have only one of "
                              "'interval', 'once', or 'each'")
        self.interval = parse_duration(when.get("interval"), "when.interval")
        self.when_timeout = parse_duration(when.get("timeout"), "when.timeout")
        self.each = bool(when.get("each"))
        code = when.get("once") or when.get("each")
        if not code:
            self.start_event, self.starts_limit = STARTUP, 1
            return
        if code not in EVENT_CODES:
            raise ConfigError(f"job[{self.name}].when: {code} is not a valid event code")
        source = when.get("source") or ""
        if code in ("startup", "shutdown", "enterMaintenance", "exitMaintenance") \
                and source in ("", GLOBAL):
            source = GLOBAL
        self.start_event = Event(code, source)
        self.starts_limit = UNLIMITED if self.each else 1

    def _parse_timing(self, raw, stop_default):
        self.exec_timeout = parse_duration(raw.get("timeout"), "timeout")
        if not self.exec_timeout and self.interval:
            self.exec_timeout = self.interval
        own_stop = parse_duration(raw.get("stopTimeout"), "stopTimeout")
        self.stop_timeout = own_stop or stop_default
        self.restarts = parse_restarts(raw.get("restarts"), self)

    def _parse_service(self, raw):
        self.ip, self.service_id = None, None
        self.initial_status = raw.get("initial_status") or ""
        if self.initial_status not in ("", "passing", "warning", "critical"):
            raise ConfigError(f"job[{self.name}].initial_status is invalid")
        extras = raw.get("consul") or {}
        self.dereg_after = extras.get("deregisterCriticalServiceAfter") or ""
        if self.dereg_after:
            parse_duration(self.dereg_after, "deregisterCriticalServiceAfter")
        self.tag_override = bool(extras.get("enableTagOverride"))
        if not self.port:
            return
        if not _SERVICE_NAME.fullmatch(self.name):
            raise ConfigError(f"service name {self.name!r} is not valid for Consul")
        self.ip = resolve_ip(raw.get("interfaces"))
        self.service_id = f"{self.name}-{socket.gethostname()}"


def parse_exec(value, what):
    """`exec` as a string (split on whitespace, no shell) or an array."""
    if value is None:
        return None
    args = value.split() if isinstance(value, str) else value
    if not isinstance(args, list) or not args or \
            not all(isinstance(a, (str, int, float)) for a in args):
        raise ConfigError(f"{what} must be a non-empty string or array")
    return [str(a) for a in args]


def parse_restarts(value, job):
    """`restarts`: "unlimited", "never" or N; default never (unlimited if periodic)."""
    if value is None:
        return UNLIMITED if job.interval else 0
    if value == "unlimited":
        if job.each:
            raise ConfigError(f"job[{job.name}].restarts may not be 'unlimited' "
                              "when 'when.each' is set")
        return UNLIMITED
    if value == "never":
        return 0
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise ConfigError(f"job[{job.name}].restarts field {value!r} invalid")


class WatchConfig:
    """One entry of `watches`: a service polled in Consul every interval."""

    def __init__(self, raw):
        self.service = raw.get("name") or ""
        if not _SERVICE_NAME.fullmatch(self.service):
            raise ConfigError(f"watch name {self.service!r} is not valid")
        self.name = "watch." + self.service
        self.interval = parse_duration(raw.get("interval"), "watch interval")
        if self.interval <= 0:
            raise ConfigError(f"watch[{self.service}].interval must be > 0")
        self.tag, self.dc = raw.get("tag") or "", raw.get("dc") or ""


class Config:
    """The whole validated configuration."""

    def __init__(self, data):
        if not isinstance(data, dict):
            raise ConfigError("configuration must be an object")
        unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
        if unknown:
            raise ConfigError(f"unknown config keys: {unknown}")
        if not data.get("consul"):
            raise ConfigError("no discovery backend defined")
        self.consul = data["consul"]
        self.logging = data.get("logging") or {}
        self.socket = (data.get("control") or {}).get("socket") or DEFAULT_SOCKET
        self.stop_timeout = parse_duration(data.get("stopTimeout")) or DEFAULT_STOP_TIMEOUT
        self.jobs = [JobConfig(j, self.stop_timeout) for j in data.get("jobs") or []]
        self.watches = [WatchConfig(w) for w in data.get("watches") or []]
        self.telemetry = data.get("telemetry")
        if self.telemetry is not None:
            self.jobs.append(self._telemetry_job())
        names = [j.name for j in self.jobs]
        if len(set(names)) != len(names):
            raise ConfigError("job names must be unique")

    def _telemetry_job(self):
        """Telemetry is advertised as the `containerpilot` service (15 s TTL, 5 s beat)."""
        raw = {"name": "containerpilot", "port": self.telemetry.get("port", 9090),
               "interfaces": self.telemetry.get("interfaces"),
               "tags": self.telemetry.get("tags"),
               "health": {"interval": 5, "ttl": 15}}
        return JobConfig(raw, self.stop_timeout)


def read_config_data(path, env):
    """Reads, renders and parses the file; the raw dict (used by client modes)."""
    if not path:
        raise ConfigError("-config flag is required")
    if path.startswith("file://"):
        path = path[len("file://"):]
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        raise ConfigError(f"could not read config file: {err}") from err
    return parse_json5(render_template(text, env))


# --------------------------------------------------------------------------
# Logging ("A hook's … stdout/stderr go to its log"; logging.level/format)
# --------------------------------------------------------------------------

class Logger:
    """ContainerPilot's log: `default` (RFC3339 time + message), `text` or `json`."""

    LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40,
              "FATAL": 50, "PANIC": 50}

    def __init__(self):
        self.level, self.format, self.stream = 20, "default", sys.stdout
        self._lock = threading.Lock()

    def configure(self, cfg):
        level = str(cfg.get("level") or "INFO").upper()
        fmt = str(cfg.get("format") or "default").lower()
        if level not in self.LEVELS or fmt not in ("default", "text", "json"):
            raise ConfigError(f"unknown log level or format: {level}/{fmt}")
        self.level, self.format = self.LEVELS[level], fmt
        output = cfg.get("output") or "stdout"
        if output in ("stdout", "stderr"):
            self.stream = getattr(sys, output)
        else:
            self.stream = open(output, "a", encoding="utf-8")  # noqa: SIM115

    def log(self, level, message, **fields):
        if self.LEVELS[level] < self.level:
            return
        now = datetime.datetime.now().astimezone()
        stamp = now.isoformat(timespec="microseconds")
        stamp = stamp.replace("+00:00", "Z").replace(".000000", "")
        if self.format == "default":
            line = f"{stamp} {message}"
        elif self.format == "text":
            extra = "".join(f" {k}={json.dumps(str(v))}" for k, v in fields.items())
            line = f'time="{stamp}" level={level.lower()} msg={json.dumps(message)}{extra}'
        else:
            record = dict(fields, level=level.lower(), msg=message, time=stamp)
            line = json.dumps(record, sort_keys=True)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def debug(self, message, **fields):
        self.log("DEBUG", message, **fields)

    def info(self, message, **fields):
        self.log("INFO", message, **fields)

    def warn(self, message, **fields):
        self.log("WARN", message, **fields)

    def error(self, message, **fields):
        self.log("ERROR", message, **fields)


# --------------------------------------------------------------------------
# Consul client ("Registration and heartbeats (observed Consul traffic)")
# --------------------------------------------------------------------------

class ConsulClient:
    """The few Consul agent calls ContainerPilot makes, over plain HTTP(S)."""

    def __init__(self, address, log):
        if isinstance(address, dict):
            scheme = address.get("scheme") or "http"
            token = address.get("token") or ""
            address = address.get("address") or "localhost:8500"
        else:
            scheme, token = "http", ""
        if "://" in address:
            scheme, address = address.split("://", 1)
        host, _, port = address.partition(":")
        self.scheme, self.host = scheme, host or "localhost"
        self.port = int(port or (443 if scheme == "https" else 8500))
        self.token = os.environ.get("CONSUL_HTTP_TOKEN") or token
        self.log = log

    def request(self, method, path, body=None):
        """(status, body bytes); raises OSError when the agent is unreachable.

        No timeout, as ContainerPilot's Consul client has none (Go's http.Client
        with no Timeout, cleanhttp's transport): a request to an agent that
        accepts the connection and never answers blocks the job that sent it."""
        conn_class = (http.client.HTTPSConnection if self.scheme == "https"
                      else http.client.HTTPConnection)
        conn = conn_class(self.host, self.port, timeout=None)
        headers = {"X-Consul-Token": self.token} if self.token else {}
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except http.client.HTTPException as err:
            raise OSError(str(err)) from err
        finally:
            conn.close()

    def put(self, path, body=None):
        """PUT; True on HTTP 200, logs a warning otherwise."""
        try:
            status, text = self.request("PUT", path, body)
        except OSError as err:
            self.log.warn(f"consul: PUT {path} failed: {err}")
            return False
        if status != 200:
            self.log.warn(f"consul: PUT {path}: {status} {text.decode(errors='replace')}")
        return status == 200

    def passing(self, service, tag="", dc=""):
        """Passing instances of a service, or None when the query failed."""
        params = [("dc", dc), ("passing", "1"), ("tag", tag)]
        query = "&".join(f"{k}={v}" for k, v in params if v)
        try:
            status, text = self.request("GET", f"/v1/health/service/{service}?{query}")
            if status != 200:
                raise OSError(f"HTTP {status}")
            return json.loads(text or b"[]")
        except (OSError, ValueError) as err:
            self.log.warn(f"failed to query {service}: {err}")
            return None


class Service:
    """A job's Consul service: registered on its first passing check, then heartbeats.

    The request bodies are those of containerpilot.md's observed Consul traffic.
    """

    def __init__(self, cfg, consul, log):
        self.cfg, self.consul, self.log = cfg, consul, log
        self.registered = self.ever_registered = False

    def registration(self, status):
        """The body ContainerPilot sends (field order as its Consul client writes it)."""
        cfg = self.cfg
        body = {"ID": cfg.service_id, "Name": cfg.name}
        if cfg.tags:
            body["Tags"] = cfg.tags
        body["Port"] = cfg.port
        body["Address"] = cfg.ip
        if cfg.tag_override:
            body["EnableTagOverride"] = True
        ttl = int(cfg.ttl) if float(cfg.ttl).is_integer() else cfg.ttl
        check = {"TTL": f"{ttl}s"}
        if status:
            check["Status"] = status
        check["Notes"] = f"TTL for {cfg.name} set by containerpilot"
        if cfg.dereg_after:
            check["DeregisterCriticalServiceAfter"] = cfg.dereg_after
        body["Check"] = check
        body["Checks"] = None
        return body

    def register(self, status):
        if self.registered:
            return
        if self.consul.put("/v1/agent/service/register", self.registration(status)):
            self.registered = self.ever_registered = True
            self.log.info(f"Service registered: {self.cfg.name}")

    def send_heartbeat(self):
        """Registers if needed, then passes the TTL check."""
        self.register("passing")
        self.consul.put(f"/v1/agent/check/update/service:{self.cfg.service_id}",
                        {"Status": "passing", "Output": "ok"})

    def deregister(self):
        self.log.debug(f"deregistering: {self.cfg.service_id}")
        self.consul.put(f"/v1/agent/service/deregister/{self.cfg.service_id}")
        self.registered = False


# --------------------------------------------------------------------------
# Processes (exec and health check runs; hook output goes to the log)
# --------------------------------------------------------------------------

class Reaper:
    """Owns every child: spawns with a process group and reaps all exits.

    Reaping with waitpid(-1) also collects orphans when running as PID 1.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._waiting = {}
        threading.Thread(target=self._loop, name="reaper", daemon=True).start()

    def spawn(self, path, args, env, file_actions, on_exit):
        with self._cond:
            pid = os.posix_spawn(path, args, env, file_actions=file_actions,
                                 setpgroup=0, setsigmask=(),
                                 setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
            self._waiting[pid] = on_exit
            self._cond.notify()
        return pid

    def _loop(self):
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                with self._cond:
                    self._cond.wait(0.5)
                continue
            with self._cond:
                on_exit = self._waiting.pop(pid, None)
            if on_exit:
                on_exit(os.waitstatus_to_exitcode(status))


class Process:
    """One run of an exec: output logged line by line, timeout -> SIGKILL."""

    def __init__(self, app, name, args, timeout, raw, on_exit):
        self.app, self.name, self.args = app, name, args
        self.timeout, self.raw, self.on_exit = timeout, raw, on_exit
        self.pid, self.returncode = None, None
        self._exited = threading.Event()
        self._reader = None

    def start(self):
        """Starts the process; an exec that cannot start counts as exitFailed."""
        env = self.app.environ()
        path = self.args[0]
        if "/" not in path:
            path = shutil.which(path, path=env.get("PATH", os.defpath))
        if not path:
            self._start_failed("executable file not found in $PATH")
            return
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        write_fd = None
        if not self.raw:
            read_fd, write_fd = os.pipe()
            actions += [(os.POSIX_SPAWN_DUP2, write_fd, 1),
                        (os.POSIX_SPAWN_DUP2, write_fd, 2)]
            self._reader = threading.Thread(target=self._pump, args=(read_fd,), daemon=True)
            self._reader.start()  # ends at EOF: when the exec (and its children) close it
        try:
            self.pid = self.app.reaper.spawn(path, self.args, env, actions, self._reaped)
        except OSError as err:
            self._start_failed(str(err))
            return
        finally:
            if write_fd is not None:
                os.close(write_fd)
        if self.timeout:
            timer = threading.Timer(self.timeout, self._timed_out)
            timer.daemon = True
            timer.start()

    def _start_failed(self, why):
        self.app.log.error(f"unable to start {self.name}: {why}")
        self.returncode = 127
        self._exited.set()
        self.on_exit(self, 127)

    def _pump(self, fd):
        with open(fd, "rb", closefd=True) as pipe:
            for raw_line in pipe:
                line = raw_line.decode(errors="replace").rstrip("\n")
                self.app.log.info(line, job=self.name, pid=self.pid)

    def _reaped(self, code):
        threading.Thread(target=self._finish, args=(code,), daemon=True).start()

    def _finish(self, code):
        if self._reader:
            self._reader.join(0.5)  # flush output first; daemons may keep the pipe
        self.returncode = code
        self._exited.set()
        if code == 0:
            self.app.log.debug(f"{self.name} exited without error")
        elif code < 0:
            why = signal.strsignal(-code) or str(-code)
            self.app.log.error(f"{self.name} exited with error: signal: {why.lower()}")
        else:
            self.app.log.error(f"{self.name} exited with error: exit status {code}")
        self.on_exit(self, code)

    def _timed_out(self):
        if not self._exited.is_set():
            self.app.log.warn(f"{self.name} timeout after {self.timeout}s: {self.args}")
            self.signal(signal.SIGKILL)

    def running(self):
        return self.pid is not None and not self._exited.is_set()

    def signal(self, sig):
        """Signals the whole process group (the exec and its children)."""
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill_after(self, grace):
        """SIGKILL the group if the process has not exited within `grace` seconds."""
        if self.pid is None:
            return
        if not self._exited.wait(grace):
            self.app.log.info(f"killing processes for job {self.name}")
            self.signal(signal.SIGKILL)
            self._exited.wait(2)


# --------------------------------------------------------------------------
# Event bus, timers, jobs ("when" wiring, restarts, health, registration)
# --------------------------------------------------------------------------

class Bus:
    """Broadcasts every event to every subscribed job."""

    def __init__(self, log):
        self.log = log
        self._subscribers = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber):
        with self._lock:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber):
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, event):
        self.log.debug(f"event: {event.code} {event.source}")
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.receive(event)


class Ticker:
    """Calls `action` every `interval` seconds (first call after one interval)."""

    def __init__(self, interval, action, repeat=True):
        self._stop = threading.Event()
        self._interval, self._action, self._repeat = interval, action, repeat
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop.wait(self._interval):
            self._action()
            if not self._repeat:
                return

    def cancel(self):
        self._stop.set()


IDLE, UNKNOWN, HEALTHY, UNHEALTHY, MAINTENANCE, ALWAYS_HEALTHY = range(6)
CONTINUE, HALT = False, True


class Job:
    """A job's event loop, following ContainerPilot's job state machine.

    containerpilot.md points: "A job" (`when` once/each/interval, `restarts`,
    `timeout`, `stopTimeout`), "Registration and heartbeats" (register on the
    first passing check, one heartbeat per passing check, none on failure) and
    "SIGTERM" (stop the exec, deregister the service).
    """

    def __init__(self, cfg, app, bus):
        self.cfg, self.app, self.bus, self.name = cfg, app, bus, cfg.name
        self.service = Service(cfg, app.consul, app.log) if cfg.port else None
        self.start_event = cfg.start_event
        self.starts_remain, self.restarts_remain = cfg.starts_limit, cfg.restarts
        self.status = ALWAYS_HEALTHY if cfg.name == "containerpilot" else IDLE
        self.stop_wait_event = None  # set when a job waits on our `stopping`
        self.exec_proc = self.check_proc = None
        self._pending_start = self._check_due = False
        self._in_maintenance = False
        self.complete = threading.Event()
        self._queue = queue.Queue()
        self._timers = []
        self._timeout_event = None

    def receive(self, event):
        self._queue.put(event)

    def start(self):
        if self.cfg.interval:
            self._timers.append(Ticker(self.cfg.interval, lambda: self.receive(
                Event("timerExpired", f"{self.name}.run-every"))))
        if self.cfg.heartbeat:
            self._timers.append(Ticker(self.cfg.heartbeat, lambda: self.receive(
                Event("timerExpired", f"{self.name}.heartbeat"))))
        if self.cfg.when_timeout:
            self._timeout_event = Event("timerExpired", f"{self.name}.wait-timeout")
            self._timers.append(Ticker(self.cfg.when_timeout, lambda: self.receive(
                self._timeout_event), repeat=False))
        threading.Thread(target=self._loop, name=f"job-{self.name}", daemon=True).start()

    def _loop(self):
        try:
            while True:
                if self.service and self.cfg.initial_status \
                        and not self.service.ever_registered:
                    self.service.register(self.cfg.initial_status)
                if self._process(self._queue.get()) is HALT:
                    return
        finally:
            self._cleanup()

    def _process(self, event):
        name, check = self.name, f"check.{self.name}"
        handlers = {
            Event("timerExpired", f"{name}.heartbeat"): self._on_heartbeat,
            Event("timerExpired", f"{name}.run-every"): self._on_run_every,
            Event("exitFailed", check): self._on_check_failed,
            Event("exitSuccess", check): self._on_check_passed,
            Event("quit", name): self._on_quit,
            SHUTDOWN: self._on_quit,
            ENTER_MAINTENANCE: self._on_enter_maintenance,
            EXIT_MAINTENANCE: self._on_exit_maintenance,
            Event("exitSuccess", name): self._on_exec_exit,
            Event("exitFailed", name): self._on_exec_exit,
        }
        if self._timeout_event and event == self._timeout_event:
            self.bus.publish(Event("timerExpired", name))
            return self._on_quit()
        if event in handlers:
            return handlers[event]()
        if event == self.start_event:
            return self._on_start()
        return CONTINUE

    def _set_status(self, status):
        if self.status != ALWAYS_HEALTHY:
            self.status = status

    def _on_heartbeat(self):
        if self.status in (IDLE, MAINTENANCE) or self._in_maintenance:
            return CONTINUE
        if self.cfg.check_args:
            self._run_check()
        elif self.service:
            self.service.send_heartbeat()
        return CONTINUE

    def _run_check(self):
        if self.check_proc and self.check_proc.running():
            # ContainerPilot's Command.Run waits for the run before to end (a
            # lock held until then): the next check starts as soon as it does.
            self._check_due = True
            return
        check_name = f"check.{self.name}"

        def on_exit(_, code):
            self.bus.publish(Event("exitSuccess" if code == 0 else "exitFailed", check_name))
            if self._check_due:
                self._check_due = False
                self.receive(Event("timerExpired", f"{self.name}.heartbeat"))
        self.check_proc = Process(self.app, check_name, self.cfg.check_args,
                                  self.cfg.check_timeout, False, on_exit)
        self.check_proc.start()

    def _on_check_failed(self):
        if self.status != MAINTENANCE:
            self._set_status(UNHEALTHY)
            self.bus.publish(Event("unhealthy", self.name))
        return CONTINUE

    def _on_check_passed(self):
        if self.status != MAINTENANCE:
            self._set_status(HEALTHY)
            self.bus.publish(Event("healthy", self.name))
            if self.service:
                self.service.send_heartbeat()
        return CONTINUE

    def _on_run_every(self):
        if not self._restart_permitted():
            self.start_event = None
            return HALT
        self._use_restart()
        self._start_exec()
        return CONTINUE

    def _on_quit(self):
        self.restarts_remain = 0
        if self.start_event and self.start_event.code in ("stopping", "stopped") \
                and self.cfg.exec_args:
            if self.starts_remain == UNLIMITED:
                self.starts_remain = 1
            return CONTINUE  # pre-stop/post-stop jobs still run during shutdown
        self.starts_remain, self.start_event = 0, None
        return HALT

    def _on_enter_maintenance(self):
        self._in_maintenance = True
        self._set_status(MAINTENANCE)
        if self.service:
            self.service.deregister()
        if self.start_event == ENTER_MAINTENANCE:
            return self._on_start()
        return CONTINUE

    def _on_exit_maintenance(self):
        self._in_maintenance = False
        self._set_status(UNKNOWN)
        if self.start_event == EXIT_MAINTENANCE:
            return self._on_start()
        return CONTINUE

    def _on_exec_exit(self):
        if self.cfg.interval:
            return CONTINUE  # periodic jobs only run on their timer
        if self._pending_start:
            self._pending_start = False
            self._start_exec()
            return CONTINUE
        if self._restart_permitted():
            self._use_restart()
            self._start_exec()
            return CONTINUE
        if self.starts_remain != 0:
            return CONTINUE
        self.start_event = None
        self._set_status(UNKNOWN)
        return HALT

    def _on_start(self):
        if self.starts_remain == 0:
            self.start_event = None
            return HALT
        if self.starts_remain != UNLIMITED:
            self.starts_remain -= 1
            if self.starts_remain == 0 or self.restarts_remain == 0:
                self.start_event = None
        self._start_exec()
        return CONTINUE

    def _restart_permitted(self):
        return self.restarts_remain == UNLIMITED or self.restarts_remain > 0

    def _use_restart(self):
        if self.restarts_remain != UNLIMITED:
            self.restarts_remain -= 1

    def _start_exec(self):
        self._timeout_event = None
        self._set_status(UNKNOWN)
        if not self.cfg.exec_args:
            return
        if self.exec_proc and self.exec_proc.running():
            self._pending_start = True  # runs again once the current run exits
            return

        def on_exit(_, code):
            self.bus.publish(Event("exitSuccess" if code == 0 else "exitFailed", self.name))
        self.exec_proc = Process(self.app, self.name, self.cfg.exec_args,
                                 self.cfg.exec_timeout, self.cfg.raw_logging, on_exit)
        self.exec_proc.start()

    def _wait_for_stop_dependency(self):
        deadline = time.monotonic() + self.cfg.stop_timeout
        while time.monotonic() < deadline:
            try:
                event = self._queue.get(timeout=deadline - time.monotonic())
            except (queue.Empty, ValueError):
                return
            if event == self.stop_wait_event:
                return

    def _cleanup(self):
        """stopping -> (wait for pre-stop job) -> SIGTERM, deregister -> stopped."""
        self.bus.publish(Event("stopping", self.name))
        for timer in self._timers:
            timer.cancel()
        if self.stop_wait_event:
            self._wait_for_stop_dependency()
        if self.exec_proc:
            self.exec_proc.signal(signal.SIGTERM)
        if self.service:
            self.service.deregister()
        if self.exec_proc:
            self.exec_proc.kill_after(self.cfg.stop_timeout)
        if self.check_proc:
            self.check_proc.signal(signal.SIGKILL)
        self.bus.unsubscribe(self)
        self.complete.set()
        self.bus.publish(Event("stopped", self.name))

    def kill(self):
        """Last resort at exit: SIGKILL whatever is left of this job."""
        for proc in (self.exec_proc, self.check_proc):
            if proc and proc.running():
                proc.signal(signal.SIGKILL)


class Watch:
    """Polls the passing instances of a service; fires changed/healthy/unhealthy.

    containerpilot.md: "A watch polls GET /v1/health/service/<name>?passing=1
    every interval seconds (no blocking query) and fires changed when the set
    of passing instances differs".
    """

    def __init__(self, cfg, consul, bus):
        self.cfg, self.consul, self.bus = cfg, consul, bus
        self._last = []
        self._ticker = None

    def start(self):
        self._ticker = Ticker(self.cfg.interval, self.poll)

    def stop(self):
        if self._ticker:
            self._ticker.cancel()

    def poll(self):
        instances = self.consul.passing(self.cfg.service, self.cfg.tag, self.cfg.dc)
        if instances is None:
            return
        services = sorted((i.get("Service") or {} for i in instances),
                          key=lambda s: s.get("ID", ""))
        current = [(s.get("Address"), s.get("Port")) for s in services]
        changed, self._last = current != self._last, current
        if changed:
            self.bus.publish(Event("changed", self.cfg.name))
            state = "healthy" if current else "unhealthy"
            self.bus.publish(Event(state, self.cfg.name))


# --------------------------------------------------------------------------
# Telemetry and control plane ("Control plane (unix socket)")
# --------------------------------------------------------------------------

class Telemetry:
    """Prometheus collectors fed by -putmetric, served on /metrics."""

    def __init__(self, cfg, log):
        self.metrics, self.log = {}, log
        for metric in cfg.get("metrics") or []:
            parts = [metric.get(k) for k in ("namespace", "subsystem", "name")]
            full_name = "_".join(p for p in parts if p)
            self.metrics[full_name] = {"type": metric.get("type", "gauge"),
                                       "help": metric.get("help", ""),
                                       "value": 0.0, "count": 0}
        self._lock = threading.Lock()
        self._server = None

    def record(self, name, value):
        metric = self.metrics.get(name)
        if metric is None:
            self.log.debug(f"metric {name} is not configured")
            return
        with self._lock:
            if metric["type"] == "gauge":
                metric["value"] = float(value)
            else:  # counter adds; histogram/summary keep count and sum
                metric["value"] += float(value)
                metric["count"] += 1

    def render(self):
        lines = []
        with self._lock:
            for name, metric in sorted(self.metrics.items()):
                kind = metric["type"]
                lines += [f"# HELP {name} {metric['help']}", f"# TYPE {name} {kind}"]
                if kind in ("histogram", "summary"):
                    lines += [f"{name}_sum {metric['value']:g}",
                              f"{name}_count {metric['count']}"]
                else:
                    lines.append(f"{name} {metric['value']:g}")
        return "\n".join(lines) + "\n"

    def serve(self, host, port):
        telemetry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = telemetry.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()


class _ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    """POST /v3/environ|metric|reload|maintenance/{enable,disable}, GET /v3/ping."""

    ROUTES = {"/v3/environ": "put_environ", "/v3/metric": "put_metric",
              "/v3/reload": "reload", "/v3/maintenance/enable": "enable_maintenance",
              "/v3/maintenance/disable": "disable_maintenance"}

    def do_GET(self):  # noqa: N802
        if self.path == "/v3/ping":
            self._reply(200, b"\n")
        elif self.path in self.ROUTES:
            self._reply(405, b"Method Not Allowed\n")
        else:
            self._reply(404, b"404 page not found\n")

    def do_POST(self):  # noqa: N802
        handler = self.ROUTES.get(self.path)
        if handler is None:
            self._reply(404, b"404 page not found\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status = getattr(self.server.app, handler)(body)
        self._reply(status, b"\n" if status == 200 else b"Unprocessable Entity\n")

    def _reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        self.server.app.log.debug("control: " + fmt % args)

    def address_string(self):
        return "control"


def _json_object(body):
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------
# The application ("SIGTERM", a failed preStart, reload, maintenance)
# --------------------------------------------------------------------------

class App:
    """Runs one generation of jobs/watches per configuration load.

    containerpilot.md points: "What hooks get" (environment), "SIGTERM", "A job
    that exits non-zero (preStart included) does NOT make ContainerPilot exit"
    and the control plane (reload restarts every job; putenv, putmetric,
    maintenance).
    """

    def __init__(self, config_path, log):
        self.config_path, self.log = config_path, log
        self.reaper = Reaper()
        self.cfg = self.consul = self.bus = self.telemetry = None
        self.jobs, self.watches = [], []
        self.maintenance = False
        self._env_lock = threading.Lock()
        self._requested = None      # "shutdown" | "reload"
        self._term_at = 0.0         # when the first SIGTERM came
        self._control = None

    # -- environment ("What hooks get") --
    def environ(self):
        with self._env_lock:
            return dict(os.environ)

    def _load(self):
        cfg = Config(read_config_data(self.config_path, self.environ()))
        self.log.configure(cfg.logging)
        with self._env_lock:
            os.environ["CONTAINERPILOT_PID"] = str(os.getpid())
            for job in cfg.jobs:
                if job.port:
                    key = "CONTAINERPILOT_" + job.name.upper().replace("-", "_") + "_IP"
                    os.environ[key] = job.ip
        self.cfg = cfg
        self.consul = ConsulClient(cfg.consul, self.log)

    # -- main loop --
    def run(self):
        """Runs until SIGTERM or all jobs done; the exit code."""
        try:
            self._load()
        except ConfigError as err:
            self.log.error(str(err))
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, lambda *_: None)
        try:
            self._start_control()
        except OSError as err:
            self.log.error(f"error listening to socket at {self.cfg.socket}: {err}")
            return 1
        try:
            return self._generations()
        finally:
            self._control.shutdown()
            self._control.server_close()
            _remove_socket(self._control.server_address)

    def _generations(self):
        while True:
            self._start_generation()
            reason = self._wait()
            self._stop_generation()
            if self._requested == "shutdown":
                # ContainerPilot 3.8 waits out the whole stopTimeout after a
                # SIGTERM, even when every job ended long before
                # (containerpilot.md: 61 s with stopTimeout 60, measured).
                time.sleep(max(0.0, self._term_at + self.cfg.stop_timeout - time.monotonic()))
                return 0
            if reason != "reload":
                return 0
            self.log.info("Reloading configuration.")
            try:
                self._load()
            except ConfigError as err:
                self.log.error(f"error initializing config: {err}")
                return 1

    def _on_signal(self, *_):
        if self._requested != "shutdown":
            self._term_at = time.monotonic()
        self._requested = "shutdown"

    def _start_control(self):
        """The socket stays at its first path for the life of the process."""
        _remove_socket(self.cfg.socket)
        self._control = _ControlServer(self.cfg.socket, _ControlHandler)
        self._control.app = self
        threading.Thread(target=self._control.serve_forever, daemon=True).start()
        self.log.info(f"control: serving at {self.cfg.socket}")

    def _start_generation(self):
        self.bus = Bus(self.log)
        if self._requested == "reload":
            self._requested = None  # a SIGTERM during the reload still counts
        self.maintenance = False
        self.jobs = [Job(c, self, self.bus) for c in self.cfg.jobs]
        by_name = {job.name: job for job in self.jobs}
        for job in self.jobs:
            event = job.cfg.start_event
            if event.code == "stopping" and event.source in by_name:
                by_name[event.source].stop_wait_event = Event("stopped", job.name)
            self.bus.subscribe(job)
        for job in self.jobs:
            job.start()
        self.watches = [Watch(w, self.consul, self.bus) for w in self.cfg.watches]
        for watch in self.watches:
            watch.start()
        self._start_telemetry()
        self.bus.publish(STARTUP)

    def _start_telemetry(self):
        self.telemetry = None
        if self.cfg.telemetry is None:
            return
        self.telemetry = Telemetry(self.cfg.telemetry, self.log)
        job = next(j for j in self.cfg.jobs if j.name == "containerpilot")
        try:
            self.telemetry.serve(job.ip, job.port)
        except OSError as err:
            self.log.error(f"telemetry: cannot listen on {job.ip}:{job.port}: {err}")

    def _wait(self):
        while True:
            if self._requested:
                return self._requested
            if self.jobs and all(job.complete.is_set() for job in self.jobs):
                return "complete"
            time.sleep(0.05)

    def _stop_generation(self):
        self.bus.publish(SHUTDOWN)
        slowest = max([j.cfg.stop_timeout for j in self.jobs] + [self.cfg.stop_timeout])
        deadline = time.monotonic() + 2 * slowest + 5
        for job in self.jobs:
            job.complete.wait(max(0.0, deadline - time.monotonic()))
        for job in self.jobs:
            if not job.complete.is_set() and job.service:
                job.service.deregister()
            job.kill()
        for watch in self.watches:
            watch.stop()
        if self.telemetry:
            self.telemetry.stop()

    # -- control plane endpoints --
    def put_environ(self, body):
        data = _json_object(body)
        if data is None:
            return 422
        with self._env_lock:
            for key, value in data.items():
                if value is None or value == "":
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = str(value)
        return 200

    def put_metric(self, body):
        data = _json_object(body)
        if data is None:
            return 422
        for name, value in data.items():
            try:
                if self.telemetry:
                    self.telemetry.record(name, value)
            except (TypeError, ValueError):
                return 422
        return 200

    def reload(self, _body):
        self._requested = self._requested or "reload"
        return 200

    def enable_maintenance(self, _body):
        if not self.maintenance:
            self.maintenance = True
            self.bus.publish(ENTER_MAINTENANCE)
        return 200

    def disable_maintenance(self, _body):
        if self.maintenance:
            self.maintenance = False
            self.bus.publish(EXIT_MAINTENANCE)
        return 200


def _remove_socket(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------
# Command line ("containerpilot -reload / -putenv / -putmetric / -maintenance")
# --------------------------------------------------------------------------

class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("control", timeout=10)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _key_values(pairs, flag):
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"flag value '{pair}' was not in the format 'key=val'")
        values[key] = value
    if not values:
        raise ConfigError(f"{flag} needs key=value")
    return values


def _client_request(args):
    """(method, path, body) for the client mode selected on the command line."""
    if args.reload:
        return "POST", "/v3/reload", None
    if args.maintenance:
        if args.maintenance not in ("enable", "disable"):
            raise ConfigError("-maintenance takes 'enable' or 'disable'")
        return "POST", f"/v3/maintenance/{args.maintenance}", None
    if args.putenv:
        return "POST", "/v3/environ", _key_values(args.putenv, "-putenv")
    if args.putmetric:
        return "POST", "/v3/metric", _key_values(args.putmetric, "-putmetric")
    return "GET", "/v3/ping", None


def run_client(args, config_path):
    """Sends one control-plane request to the socket named in the config."""
    request = _client_request(args)
    data = read_config_data(config_path, dict(os.environ))
    sock_path = (data.get("control") or {}).get("socket") or DEFAULT_SOCKET
    conn = _UnixHTTPConnection(sock_path)
    method, path, body = request
    payload = None if body is None else json.dumps(body)
    try:
        conn.request(method, path, body=payload,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
    except OSError as err:
        print(f"{path}: failed to run subcommand: {err}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if response.status != 200:
        print(f"{path}: expected 200 but got {response.status}", file=sys.stderr)
        return 1
    if args.ping:
        print("ok")
    return 0


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="containerpilot", allow_abbrev=False)
    parser.add_argument("-config", "--config", default="")
    parser.add_argument("-version", "--version", action="store_true")
    parser.add_argument("-template", "--template", action="store_true")
    parser.add_argument("-out", "--out", default="-")
    parser.add_argument("-reload", "--reload", action="store_true")
    parser.add_argument("-ping", "--ping", action="store_true")
    parser.add_argument("-maintenance", "--maintenance", default="")
    parser.add_argument("-putenv", "--putenv", action="append", default=[])
    parser.add_argument("-putmetric", "--putmetric", action="append", default=[])
    return parser.parse_args(argv)


def _render_only(config_path, out):
    if not config_path:
        raise ConfigError("-config flag is required")
    with open(config_path, encoding="utf-8") as handle:
        rendered = render_template(handle.read(), dict(os.environ))
    if out in ("", "-"):
        sys.stdout.write(rendered)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(rendered)
    return 0


def _set_process_name(name):
    """Names the process like the real binary, so `pkill -x containerpilot` finds it."""
    try:
        ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def main(argv=None):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"Version: {VERSION}\nGitHash: {GIT_HASH}")
        return 0
    config_path = args.config or os.environ.get("CONTAINERPILOT", "")
    try:
        if args.template:
            return _render_only(config_path, args.out)
        if args.reload or args.ping or args.maintenance or args.putenv or args.putmetric:
            return run_client(args, config_path)
    except (ConfigError, OSError) as err:
        print(f"containerpilot: {err}", file=sys.stderr)
        return 1
    _set_process_name("containerpilot")
    code = App(config_path, Logger()).run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # daemon threads may sit in blocking calls; leave at once


if __name__ == "__main__":
    sys.exit(main())
