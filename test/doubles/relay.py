#!/usr/bin/env python3
"""A TCP relay that can black-hole: one node's own path to Consul in the tests.

Usage: relay.py --upstream HOST:PORT [--listen ADDR] [--port P]

Prints "relay listening on ADDR:PORT" once it accepts connections, then copies
bytes both ways between each client and a connection of its own to the
upstream. SIGUSR1 starts a black hole, as a network partition does: nothing is
read or forwarded any more in either direction, and new connections are
accepted but go nowhere, so every request through the relay hangs until its
client gives up. SIGUSR2 ends it: what was held back is forwarded late, as
TCP retransmission would deliver it. SIGTERM/SIGINT stop the relay.
Python standard library only; one thread.
"""

import argparse
import selectors
import signal
import socket
import sys

CHUNK = 65536


class Pipe:
    """One client connection and its upstream connection."""

    def __init__(self, client, upstream):
        self.ends = (client, upstream)
        self.pending = {client: b"", upstream: b""}  # bytes waiting to be written to it
        self.eof = set()  # ends that have nothing more to send

    def peer(self, sock):
        return self.ends[1] if sock is self.ends[0] else self.ends[0]


class Relay:
    def __init__(self, listen, upstream):
        self.upstream = upstream
        self.listener = socket.create_server(listen, reuse_port=False)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.pipes = {}  # socket -> Pipe
        self.blackhole = False
        self.stop = False

    def address(self):
        return self.listener.getsockname()[:2]

    def run(self):
        while not self.stop:
            for key, events in self.selector.select(timeout=0.1):
                if key.fileobj is self.listener:
                    self.accept()
                else:
                    self.service(key.fileobj, events)
        for sock in list(self.pipes):
            sock.close()
        self.listener.close()

    def set_blackhole(self, on):
        self.blackhole = on
        for sock in list(self.pipes):
            self.update(sock)

    def accept(self):
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipe = Pipe(client, upstream)
        for sock in pipe.ends:
            self.pipes[sock] = pipe
            self.update(sock)

    def update(self, sock):
        """Registers what the socket waits for: nothing at all in a black hole."""
        pipe = self.pipes.get(sock)
        if pipe is None:
            return
        events = 0
        if not self.blackhole:
            if sock not in pipe.eof:
                events |= selectors.EVENT_READ
            if pipe.pending[sock]:
                events |= selectors.EVENT_WRITE
        try:
            registered = self.selector.get_key(sock).events
        except KeyError:
            registered = 0
        if events == registered:
            return
        if not events:
            self.selector.unregister(sock)
        elif registered:
            self.selector.modify(sock, events)
        else:
            self.selector.register(sock, events)

    def service(self, sock, events):
        pipe = self.pipes.get(sock)
        if pipe is None or self.blackhole:
            return
        if events & selectors.EVENT_WRITE and pipe.pending[sock]:
            try:
                sent = sock.send(pipe.pending[sock])
                pipe.pending[sock] = pipe.pending[sock][sent:]
            except OSError:
                return self.close(pipe)
        if events & selectors.EVENT_READ:
            try:
                data = sock.recv(CHUNK)
            except BlockingIOError:
                data = None
            except OSError:
                return self.close(pipe)
            if data == b"":
                pipe.eof.add(sock)
            elif data:
                pipe.pending[pipe.peer(sock)] += data
        for end in pipe.ends:
            # What one end sent before it closed reaches the other, then the
            # other learns it closed.
            if pipe.peer(end) in pipe.eof and not pipe.pending[end]:
                if end in pipe.eof:
                    return self.close(pipe)
                try:
                    end.shutdown(socket.SHUT_WR)
                except OSError:
                    return self.close(pipe)
        for end in pipe.ends:
            self.update(end)

    def close(self, pipe):
        for sock in pipe.ends:
            self.pipes.pop(sock, None)
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()


def host_port(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, type=host_port, help="HOST:PORT")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    relay = Relay((args.listen, args.port), args.upstream)

    def on_signal(signum, _frame):
        if signum in (signal.SIGTERM, signal.SIGINT):
            relay.stop = True
        else:
            relay.set_blackhole(signum == signal.SIGUSR1)
            print("relay: black hole %s" % ("on" if relay.blackhole else "off"),
                  file=sys.stderr, flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, on_signal)
    host, port = relay.address()
    print("relay listening on %s:%d" % (host, port), flush=True)
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
