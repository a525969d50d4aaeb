"""``FakeControllers``: the stand-in controllers together, once (``reconcile_once``) or in a background loop."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType

import requests

from lab.controllers.cert_manager import CertManager
from lab.controllers.client import KubeClient
from lab.controllers.kyverno import Kyverno

log = logging.getLogger(__name__)


class FakeControllers:
    """Marks cert-manager and Kyverno objects Ready and writes Certificate Secrets, once or in a loop."""

    def __init__(self, kubeconfig: str | Path, cluster_resource_namespace: str = "cert-manager") -> None:
        self.client = KubeClient(kubeconfig)
        self.cert_manager = CertManager(self.client, cluster_resource_namespace)
        self.kyverno = Kyverno(self.client)
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reconcile_once(self, max_passes: int = 6) -> list[str]:
        """Reconcile everything until nothing changes (a CA chain settles in one call); return the actions."""
        actions: list[str] = []
        for _ in range(max_passes):
            done = [*self.cert_manager.reconcile(), *self.kyverno.reconcile()]
            actions += done
            if not done:
                break
        return actions

    def start(self, interval: float = 0.5) -> FakeControllers:
        """Run reconcile_once every interval seconds in a daemon thread until stop()."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, args=(interval,), daemon=True, name="fake-controllers"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop (if any) and release the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.client.close()

    def __enter__(self) -> FakeControllers:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                for action in self.reconcile_once():
                    log.info("%s", action)
            except (requests.RequestException, ValueError, KeyError) as err:
                message = f"{type(err).__name__}: {err}"
                if not self.errors or self.errors[-1] != message:  # log each new error once
                    log.warning("fake controllers: %s", message)
                self.errors = [*self.errors[-19:], message]
            self._stop.wait(interval)
