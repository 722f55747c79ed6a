"""A TCP proxy the chaos suite controls: partitions, latency and connection resets."""

import contextlib
import logging
import random
import socket
import threading
import time

log = logging.getLogger(__name__)

CHUNK = 65536


class TcpProxy:
    """Listens on a free loopback port and forwards to `target_port`."""

    def __init__(self, target_port: int, *, seed: int = 0) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._partitioned = False
        self._latency_s = 0.0
        self._reset_probability = 0.0
        self._rng = random.Random(seed)
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def partition(self) -> None:
        """Cut every connection and refuse new ones until `heal()`."""
        with self._lock:
            self._partitioned = True
        self._cut_all()

    def degrade(self, *, latency_s: float, reset_probability: float) -> None:
        """A slow, unreliable link: each chunk is delayed and may reset its connection."""
        with self._lock:
            self._latency_s = latency_s
            self._reset_probability = reset_probability

    def heal(self) -> None:
        with self._lock:
            self._partitioned = False
            self._latency_s = 0.0
            self._reset_probability = 0.0

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._cut_all()

    def _cut_all(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            _close(connection)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._partitioned
            if refused:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(CHUNK):
                with self._lock:
                    latency, reset = self._latency_s, self._reset_probability
                    unlucky = self._rng.random() < reset
                if latency:
                    time.sleep(latency)
                if unlucky:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                _close(end)
            with self._lock:
                self._connections -= {source, sink}


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
