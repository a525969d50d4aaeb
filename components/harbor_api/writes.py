"""Creates that are safe to retry: a POST whose outcome is unknown is followed by a lookup, never repeated blindly.

Harbor may carry out a POST whose answer never reaches us (the connection dropped, the wait ran out, a proxy
answered 502/503/504), and a 500 may come after a partial write that Harbor rolled back, or not. The client
never repeats a POST itself (components/harbor_api/client.py); :func:`create_once` looks first:

- the object is there: it is ours (the lost answer's), and its id is returned;
- it is not there, after a dropped answer or a 502/503/504: the POST is sent again, at most the endpoint's
  ``retries`` times, each time after a lookup;
- it is not there after a 500 or a timeout: the error is raised with what the lookup showed and the caller's
  explanation (``explain``), because sending it again would meet the same fault.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from components.harbor_api.client import HarborClient
from components.harbor_api.errors import HarborError, HarborUnconfirmedWriteError

Explain = Callable[[HarborUnconfirmedWriteError], str]
"""What a failed create probably means and what to check (the lookup showed nothing was created)."""


def create_once(
    client: HarborClient,
    path: str,
    body: Any,
    operation: str,
    *,
    find: Callable[[], int | None],
    explain: Explain,
    timeout: float | None = None,
) -> tuple[int, bool]:
    """POST ``body`` to ``path``; after an unconfirmed outcome, ``find()`` the object before anything else.

    Returns the id and whether it was found by a lookup after an unconfirmed POST (created by us all the same).
    """
    ep = client.endpoint
    attempts = 1 + ep.retries
    for attempt in range(attempts):
        try:
            return client.create(path, body, operation, timeout=timeout), False
        except HarborUnconfirmedWriteError as exc:
            found = find()
            if found is not None:
                return found, True
            if exc.status == 500 or exc.timed_out or attempt == attempts - 1:
                raise not_created(exc, explain(exc), attempt + 1) from None
            time.sleep(min(ep.backoff * (2**attempt), ep.max_backoff))
    raise AssertionError("unreachable")  # pragma: no cover


def not_created(exc: HarborUnconfirmedWriteError, hint: str, attempts: int = 1) -> HarborError:
    """The error to raise once a lookup showed that an unconfirmed create left nothing behind."""
    looked = (
        f"looked up after each of {attempts} attempts: nothing was created"
        if attempts > 1
        else "looked up afterwards: nothing was created, so the request was not sent again"
    )
    if exc.api_error is not None:
        return exc.api_error.with_hint(f"{looked}; {hint}")
    return HarborUnconfirmedWriteError(
        exc.operation, f"{exc.detail}; {looked}; {hint}", timed_out=exc.timed_out
    )
