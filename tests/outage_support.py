"""Helpers of the outage tests: apps built on a lost service, and a TCP relay to cut.

``TcpRelay`` stands on a loopback port in front of PostgreSQL. ``cut()`` closes
every relayed connection (the client reads end-of-file on its next use, as when
the server restarts or a firewall drops the link) and closes the port, so new
connections are refused; ``restore()`` listens again on the same port. Real
sockets and drivers: nothing is mocked.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db, limiter
from tests.conftest import make_config
from tests.processes import free_port

RETRY_AFTER = "10"  # app/ops/outages.py RETRY_AFTER_SECONDS


def dead_redis_url() -> str:
    """A Redis URL on a loopback port nothing listens on."""
    return f"redis://127.0.0.1:{free_port()}/0"


def dead_postgres_url() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"


@pytest.fixture
def build_app(app: Flask) -> Iterator[Any]:
    """build_app(**config) -> a separate app; afterwards the suite's app gets the limiter back.

    One limiter serves the process (app/extensions.py) and takes the storage of
    the last app built: the suite's app must not inherit a dead Redis.
    """
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(make_config(**overrides))
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    limiter.init_app(app)
    limiter._storage_dead = False


def unavailable(response: Any) -> str:
    """A 503 of ours: JSON ``{"message": ...}`` and Retry-After; the message."""
    where = f"{response.request.method} {response.request.path} -> {response.status_code}"
    assert response.status_code == 503, f"{where} {response.get_data(as_text=True)[:300]}"
    assert response.is_json, f"{where} {response.content_type}"
    assert isinstance(response.json.get("message"), str), where
    assert response.headers.get("Retry-After") == RETRY_AFTER, where
    return response.json["message"]


def relayed_url(database_url: str, port: int) -> str:
    """The same database and schema, through the relay's port."""
    return make_url(database_url).set(port=port).render_as_string(hide_password=False)


class TcpRelay:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def in_front_of(cls, database_url: str) -> TcpRelay:
        url = make_url(database_url)
        relay = cls(url.host or "127.0.0.1", url.port or 5432)
        relay.start()
        return relay

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.1)
        self._stop = threading.Event()
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener, self._stop), daemon=True
        )
        self._acceptor.start()

    def cut(self) -> None:
        """Close every relayed connection and the listening port."""
        self._stop.set()
        if self._acceptor is not None:
            # The port stays open while accept() waits: let it return (0.1 s at most).
            self._acceptor.join(timeout=5)
            self._acceptor = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.start()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if stop.is_set():  # accepted as the cut began: refused like the rest
                client.close()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # One side ended: end the other too, as a real link would.
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.difference_update((source, sink))
