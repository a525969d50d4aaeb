"""A Harbor v2.14 API double: a real HTTP server on 127.0.0.1 that follows Harbor's swagger and, where the swagger
is silent, Harbor v2.14.2's own source (../shared/HARBOR-BEHAVIOUR.md; the behaviour table with a test per row is
docs/harbor-double.md).

It serves the endpoints the harbor-cache client uses (registries, projects, repositories, quotas, retentions,
replication policies and executions, ping, health, systeminfo, configurations) with Harbor's status codes,
messages and headers. Every request is checked against the swagger: a mismatch is answered with 422 and recorded
in :attr:`HarborDouble.violations`, so a test fails. Registry writes run Harbor's live upstream check for real.

Where things are:

- ``swagger.py``: loading the swagger, routing, request validation;
- ``store.py``: the objects, per-kind id sequences, transactions, their lock, ``state.json``;
- ``handlers/``: Harbor's behaviour, one module per API area (``HANDLERS = {operationId: function}``);
- ``listing.py``: ``q`` filters and paging shared by the list operations;
- ``upstream.py``: the adapter checks and the live ``GET /v2/`` health check; ``cron.py``: Harbor's cron parser;
- ``faults.py``: the fault switches (the test controls, documented there); ``settings.py``: Harbor's
  configuration and environment (upstream reachability, AWS, proxy types, quota);
- ``fake_upstream.py``: a ``/v2/`` responder on loopback for the health check;
- ``server.py``: one request's path through the double (validation, caller, handler in a transaction, faults);
- ``control.py``: the control API (``/_double/...``, no auth, also on a separate control port);
- ``double.py``: :class:`HarborDouble`, which ties them together and runs the servers;
- ``client.py``: :class:`DoubleClient` for a double running in another process;
- ``cli.py``: ``python -m lab double --port 8080 --control-port 8081 --admin-password-file pw --state-dir d
  [--fault NAME=VALUE] [--setting NAME=VALUE]``.
"""

from lab.harbor_double.client import DoubleClient
from lab.harbor_double.double import HarborDouble
from lab.harbor_double.faults import Faults

__all__ = ["DoubleClient", "Faults", "HarborDouble"]
