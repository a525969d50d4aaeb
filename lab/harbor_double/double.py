"""``HarborDouble``: the store, the faults, what was asked of it (counts, violations, requests), and the HTTP
servers (the API port, and an optional control port that stays up while the API is ``down``)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lab.harbor_double.faults import Faults
from lab.harbor_double.server import make_handler
from lab.harbor_double.settings import Settings
from lab.harbor_double.store import Store
from lab.harbor_double.swagger import Swagger, load_swagger

DEFAULT_PASSWORD = "Harbor12345"  # noqa: S105 (Harbor's documented default admin password)


class HarborDouble:
    """A Harbor v2.14 API double on loopback; ``with HarborDouble(password) as double:`` or start()/stop()."""

    def __init__(
        self,
        admin_password: str = DEFAULT_PASSWORD,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
        state_dir: str | None = None,
        swagger: Swagger | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.admin_password = admin_password
        self.host, self.port, self.control_port = host, port, control_port
        self.state_dir = Path(state_dir) if state_dir else None
        self.swagger = swagger or load_swagger()
        self.settings = settings or Settings()
        self.store = Store(self.state_dir, library=self.settings.library_project)
        self.faults = Faults()
        self._base_settings = self.settings.copy()  # what reset restores
        # What clients asked: requests per "METHOD /template", swagger violations, cookies sent back, requests.
        self.counts: Counter[str] = Counter()
        self.violations: list[str] = []
        self.cookies_seen = 0
        self.requests: list[dict[str, Any]] = []
        self._api: ThreadingHTTPServer | None = None
        self._control: ThreadingHTTPServer | None = None
        self._server_lock = threading.Lock()

    @property
    def state(self) -> dict[str, Any]:
        """The stored objects by kind (live: tests may change them out of band, as a person in the UI would)."""
        return self.store.state

    @property
    def lock(self) -> threading.RLock:
        """The one lock around the state and the request records."""
        return self.store.lock

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port or self.port}"

    def start(self) -> HarborDouble:
        """Listen (port 0: a free port); with a state directory, write ``endpoint.json`` there."""
        self._start_api()
        if self.control_port is not None:
            self._control = self._serve(self.control_port)
            self.control_port = self._control.server_address[1]
        if self.state_dir:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            info = {"url": self.url, "control_url": self.control_url, "pid": os.getpid()}
            (self.state_dir / "endpoint.json").write_text(json.dumps(info), encoding="utf-8")
        return self

    def stop(self) -> None:
        """Close both ports."""
        self._stop_api()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None

    def __enter__(self) -> HarborDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((self.host, port), make_handler(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def _start_api(self) -> None:
        with self._server_lock:
            if self._api is None:
                self._api = self._serve(self.port)
                self.port = self._api.server_address[1]

    def _stop_api(self) -> None:
        with self._server_lock:
            if self._api is not None:
                self._api.shutdown()
                self._api.server_close()
                self._api = None

    def set_down(self, down: bool) -> None:
        """Close (``True``) or reopen the API port, so that connections are refused meanwhile."""
        self.faults.down = down
        if down:
            self._stop_api()
        else:
            self._start_api()

    # ---- test helpers

    def reset(self) -> None:
        """No objects, no faults, nothing recorded; the API port open."""
        with self.lock:
            self.faults = Faults()
            self.settings = self._base_settings.copy()
            self.store.clear(library=self.settings.library_project)
            self.counts.clear()
            self.violations.clear()
            self.cookies_seen = 0
            self.requests.clear()
        self.set_down(False)
        self.store.save()

    def set_faults(self, **changes: Any) -> None:
        """Flip fault switches (see faults.py); ``down`` opens or closes the API port."""
        down = changes.pop("down", None)
        with self.lock:
            self.faults.update(**changes)
        if down is not None:
            self.set_down(bool(down))

    def set_settings(self, **changes: Any) -> None:
        """Change Harbor's configuration and environment (see settings.py)."""
        with self.lock:
            self.settings.update(**changes)

    def lose_response(self, match: str, times: int = 1) -> None:
        """Handle and commit the next ``times`` requests matching ``"METHOD /path-glob"`` (-1: every one), then
        drop the connection before the reply (adds a rule; see faults.py)."""
        with self.lock:
            self.faults.update(lose_response=[*self.faults.lose_response, {"match": match, "times": times}])

    def add_repository(self, project: str, name: str, artifacts: int = 1) -> None:
        """Simulate a cached or pushed image: repository ``<project>/<name>``."""
        self.store.add_repository(project, name, artifacts)

    def count(self, method: str, template: str) -> int:
        """How many requests reached ``METHOD /swagger/template``."""
        return self.counts[f"{method} {template}"]

    def snapshot(self, raw: bool = False) -> dict[str, Any]:
        """A JSON-safe copy of the state; secrets masked unless ``raw``."""
        return self.store.snapshot(raw)
