"""A Harbor v2.14 API double: a real HTTP server on 127.0.0.1 that follows Harbor's swagger.

It serves the endpoints the harbor-cache client uses (registries, projects, repositories, quotas, retentions,
replication policies and executions, ping, health) with Harbor's status codes, headers (``Location``,
``X-Total-Count``, ``Link``, ``X-Request-Id``), masked secrets, 409/412 cases, metadata as strings, metadata
merge on project PUT, the 7-day retention Harbor attaches to proxy projects, and replication executions that
finish. Every request is checked against the swagger: a mismatch is answered with 422 and recorded in
:attr:`HarborDouble.violations`, so a test fails.

Where things are:

- ``swagger.py``: loading the swagger, routing, request validation;
- ``store.py``: the objects, their lock, ``state.json``;
- ``handlers/``: Harbor's behaviour, one module per API area (``HANDLERS = {operationId: function}``);
- ``listing.py``: ``q`` filters and paging shared by the list operations;
- ``faults.py``: the fault switches and where each one acts;
- ``server.py``: one request's path through the double (auth, cookies, validation, handler, save);
- ``control.py``: the control API (``/_double/...``, no auth, also on a separate control port);
- ``double.py``: :class:`HarborDouble`, which ties them together and runs the servers;
- ``client.py``: :class:`DoubleClient` for a double running in another process;
- ``cli.py``: ``python -m lab double --port 8080 --control-port 8081 --admin-password-file pw --state-dir d``.
"""

from lab.harbor_double.client import DoubleClient
from lab.harbor_double.double import HarborDouble
from lab.harbor_double.faults import Faults

__all__ = ["DoubleClient", "Faults", "HarborDouble"]
