"""A byte-forwarding proxy in front of the test PostgreSQL server's unix socket, that can lose
the answer to a COMMIT.

``PgProxy(server)`` listens on its own socket directory (``dsn()`` points there) and forwards
every connection to the server unchanged. ``lose_next_commit_answer()`` arms it once: the next
client message holding ``COMMIT`` goes to the server, the server's answer (``CommandComplete``
``COMMIT``: the transaction is durable) is read and thrown away, and the client's connection is
closed — what a network failure between a server's commit and the client's read looks like. With
``keep_server_side=True`` the server's end stays open (the server does not notice the client is
gone, as after a silent network partition), so the session and its locks live on.
"""

from __future__ import annotations

import contextlib
import select
import socket
import tempfile
import threading
from pathlib import Path

from tests.pgserver import PgServer

COMMIT_QUERY = b"COMMIT\x00"  # the simple-query message psycopg sends on leaving a transaction
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"  # CommandComplete 'COMMIT'
CHUNK = 65536


class PgProxy:
    def __init__(self, server: PgServer) -> None:
        self.target = str(server.socket_dir / f".s.PGSQL.{server.port}")
        self.port = server.port
        self.dir = Path(tempfile.mkdtemp(prefix="yulian-pgproxy-"))
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.dir / f".s.PGSQL.{self.port}"))
        self.listener.listen(64)
        self.lock = threading.Lock()
        self.armed = False
        self.keep_server_side = False
        self.answers_lost = 0
        self.kept: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="pgproxy").start()

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.dir} port={self.port} user=yulian dbname={dbname}"

    def lose_next_commit_answer(self, *, keep_server_side: bool = False) -> None:
        with self.lock:
            self.armed = True
            self.keep_server_side = keep_server_side

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both directions of one connection in one thread (so the trap cannot race)."""
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [])
                if upstream in readable:
                    data = upstream.recv(CHUNK)
                    if not data:
                        break
                    client.sendall(data)
                if client in readable:
                    data = client.recv(CHUNK)
                    if not data:
                        break
                    with self.lock:
                        trap = self.armed and COMMIT_QUERY in data
                        keep = self.keep_server_side
                        if trap:
                            self.armed = False
                    upstream.sendall(data)
                    if trap:
                        self._swallow_commit_answer(upstream)
                        client.close()
                        if keep:
                            self.kept.append(upstream)
                        else:
                            upstream.close()
                        return
        except OSError:
            pass
        self._close(client, upstream)

    def _swallow_commit_answer(self, upstream: socket.socket) -> None:
        answer = b""
        while COMMIT_DONE not in answer:
            chunk = upstream.recv(CHUNK)
            if not chunk:
                break
            answer += chunk
        with self.lock:
            self.answers_lost += 1

    @staticmethod
    def _close(*socks: socket.socket) -> None:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        self._close(*self.kept)
