"""Pulumi dynamic providers and resources for Harbor: ``Registry``, ``Project``, ``ReplicationPolicy``.

The module path and class names are part of every stack's state (the providers are pickled by reference):
do not move or rename them. Type tokens: ``pulumi-python:dynamic/harbor:Registry|Project|ReplicationPolicy``.

Credentials: the Harbor admin password comes only from :meth:`configure` (stack config
``harbor-cache:adminPassword``, decrypted in the provider process) and is never pickled; the upstream secret
access key is the secret input ``access_secret`` of :class:`Registry`. The non-secret way to reach Harbor is
the input ``harbor`` (the dict form of :class:`~components.harbor_api.client.HarborEndpoint`).

Provider instances are shared by the engine's four worker threads: after ``configure`` nothing on ``self``
changes, and each call builds its own :class:`HarborClient`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from components.harbor_api.client import (
    HarborApiError,
    HarborClient,
    HarborConfigError,
    HarborEndpoint,
    HarborError,
)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Value of ``pulumi.runtime.rpc.UNKNOWN``: an input not yet known during preview."""
PASSWORD_CONFIG_KEY = "harbor-cache:adminPassword"  # noqa: S105 - a config key
REGISTRY_TYPES = ("aws-ecr", "docker-registry", "harbor")
ECR_URL_RE = re.compile(
    r"https://(?:api|(\d+)\.dkr)\.ecr(?:-public|-fips)?\.([\w\-]+)\."
    r"(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)/?"
)
PROJECT_NAME_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
PROXY_DEFAULT_RETENTION_DAYS = 7
RETENTION_TEMPLATE = "nDaysSinceLastPull"
_RUNNING = frozenset({"InProgress", "Pending", "Running"})
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - rpc secret signature
_MISSING: Any = object()


def _plain(value: Any) -> Any:
    """Unwrap a Pulumi RPC secret (``{"4dabf18193072939515e22adb298388d": sig, "value": v}``) if any."""
    if isinstance(value, dict) and value.get("4dabf18193072939515e22adb298388d") == _SECRET_SIG:
        return value.get("value")
    return value


def _known(value: Any) -> bool:
    # During preview an input from an unresolved output arrives as the UNKNOWN sentinel string, or (when the
    # SDK deserializes with keep_unknowns) as a pulumi.output.Unknown object.
    return value != UNKNOWN and not isinstance(value, Unknown)


class _Checker:
    """Field-by-field validation for ``check``: coerces types, applies defaults, passes UNKNOWN through."""

    def __init__(self, news: Mapping[str, Any]) -> None:
        self.news = {k: _plain(v) for k, v in news.items()}
        self.out: dict[str, Any] = {}
        self.failures: list[CheckFailure] = []

    def fail(self, field: str, reason: str) -> None:
        self.failures.append(CheckFailure(field, reason))

    def _get(self, key: str, default: Any) -> Any:
        value = self.news.get(key, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.fail(key, "is required")
                return None
            return default
        return value

    def string(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        pattern: re.Pattern[str] | None = None,
        choices: Sequence[str] | None = None,
        max_len: int | None = None,
        hint: str = "",
    ) -> Any:
        value = self._get(key, default)
        if value is not None and _known(value):
            if not isinstance(value, str):
                self.fail(key, f"must be a string, got {type(value).__name__}")
            elif default is _MISSING and not value:
                self.fail(key, "must not be empty")
            elif choices is not None and value not in choices:
                self.fail(key, f"must be one of {', '.join(choices)}; got {value!r}")
            elif max_len is not None and len(value) > max_len:
                self.fail(key, f"must be at most {max_len} characters")
            elif pattern is not None and value and not pattern.fullmatch(value):
                self.fail(key, f"{value!r} does not match {pattern.pattern}{hint}")
        self.out[key] = value
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> Any:
        value = self._get(key, default)
        if value is not None and _known(value):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
                self.fail(key, f"must be a whole number, got {value!r}")
            else:
                value = int(value)
                if minimum is not None and value < minimum:
                    self.fail(key, f"must be >= {minimum}, got {value}")
        self.out[key] = value
        return value

    def number(self, key: str, default: float) -> Any:
        value = self._get(key, default)
        if _known(value) and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            self.fail(key, f"must be a positive number, got {value!r}")
        self.out[key] = value
        return value

    def boolean(self, key: str, default: bool) -> Any:
        value = self._get(key, default)
        if _known(value) and not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        self.out[key] = value
        return value

    def endpoint(self) -> None:
        value = self.news.get("harbor")
        self.out["harbor"] = value
        if value is None:
            self.fail("harbor", "is required (how to reach Harbor: url, or kubeconfig for the service proxy)")
            return
        if not _known(value):
            return
        if not isinstance(value, dict):
            self.fail("harbor", "must be an object (HarborEndpoint.to_dict())")
            return
        if any(not _known(v) for v in value.values()):
            return
        try:
            self.out["harbor"] = HarborEndpoint.from_dict(value).to_dict()
        except (HarborConfigError, TypeError) as exc:
            self.fail("harbor", str(exc))

    def result(self) -> CheckResult:
        return CheckResult(self.out, self.failures)


def _diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    keys: Sequence[str],
    replace_keys: Sequence[str],
    id_key: str,
) -> DiffResult:
    """Compare only our own keys (never ``__provider``); replacements delete first (names are unique)."""
    changed = [k for k in keys if _plain(olds.get(k)) != _plain(news.get(k))]
    replaces = [k for k in changed if k in replace_keys]
    stables = [k for k in keys if k not in changed and _known(news.get(k))]
    if not replaces:
        stables.append(id_key)
    return DiffResult(
        changes=bool(changed), replaces=replaces, stables=stables, delete_before_replace=bool(replaces)
    )


def _with_hint(exc: HarborApiError, hint: str) -> HarborApiError:
    return HarborApiError(
        exc.operation, exc.status, exc.code, exc.message, request_id=exc.request_id, hint=hint
    )


def _as_int(value: Any) -> int | None:
    return None if value is None else int(value)


class _HarborProvider(ResourceProvider):
    """Shared plumbing: the admin password from ``configure`` (never pickled) and a client per call."""

    _password: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        """Read ``harbor-cache:adminPassword`` from the stack's config (decrypted by the engine)."""
        value = req.config.get(PASSWORD_CONFIG_KEY)
        self._password = str(value) if value else None

    def __getstate__(self) -> dict[str, Any]:
        # Nothing on the instance is state: the password in particular must never be pickled.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def _client(self, props: Mapping[str, Any]) -> HarborClient:
        if not self._password:
            raise HarborConfigError(
                f"the Harbor admin password is not configured: run `pulumi config set --secret "
                f"{PASSWORD_CONFIG_KEY} <password>`"
            )
        return HarborClient(HarborEndpoint.from_dict(_plain(props["harbor"])), self._password)

    def _ready_client(self, props: Mapping[str, Any]) -> HarborClient:
        """A client for a write that may come right after Harbor was installed: waits for /health first."""
        client = self._client(props)
        if client.endpoint.ready_timeout > 0:
            client.wait_until_ready(client.endpoint.ready_timeout)
        return client


# --------------------------------------------------------------------------------------------- Registry

_REGISTRY_KEYS = (
    "harbor",
    "name",
    "type",
    "url",
    "access_key_id",
    "access_secret",
    "insecure",
    "description",
)


class RegistryProvider(_HarborProvider):
    """CRUD for ``/registries`` (an upstream endpoint such as Amazon ECR)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = _Checker(news)
        c.endpoint()
        c.string("name", max_len=64)
        rtype = c.string("type", "aws-ecr", choices=REGISTRY_TYPES)
        url = c.string("url")
        key = c.string("access_key_id", "")
        secret = c.string("access_secret", "")
        c.boolean("insecure", False)
        c.string("description", "")
        if isinstance(url, str) and _known(url) and url:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                c.fail("url", f"must be an http(s) URL, got {url!r}")
            elif rtype == "aws-ecr" and not ECR_URL_RE.fullmatch(url):
                c.fail(
                    "url",
                    f"{url!r} is not an Amazon ECR endpoint; use https://<account>.dkr.ecr.<region>.amazonaws.com",
                )
        if _known(key) and _known(secret) and secret and not key:
            c.fail("access_key_id", "is required when access_secret is set")
        return c.result()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, _REGISTRY_KEYS, ("type",), "registry_id")

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = {k: _plain(v) for k, v in props.items()}
        client, name = self._ready_client(props), props["name"]
        existing = client.find_by_name("/registries", name, f"look up registry '{name}'")
        if existing is None:
            try:
                rid = client.create("/registries", _registry_create_body(props), f"create registry '{name}'")
            except HarborApiError as exc:
                if exc.status != 409:
                    raise
                existing = client.find_by_name("/registries", name, f"look up registry '{name}'")
                if existing is None:
                    raise
        if existing is not None:
            if existing.get("type") != props["type"]:
                raise HarborError(
                    f"create registry '{name}': Harbor already has a registry of that name with type "
                    f"{existing.get('type')!r}, not {props['type']!r}; rename one of them"
                )
            rid = int(existing["id"])
            client.put(f"/registries/{rid}", _registry_update_body(props), f"update registry '{name}'")
        live = client.get(f"/registries/{rid}", f"read registry '{name}'") or {}
        return CreateResult(str(rid), _registry_outs(props, rid, live, adopted=existing is not None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = {k: _plain(v) for k, v in props.items()}
        live = self._client(props).get(f"/registries/{int(id_)}", f"read registry {id_}")
        if live is None:
            return ReadResult("", {})
        cred = live.get("credential") or {}
        secret = props.get("access_secret") or ""
        if not cred.get("access_secret"):
            secret = ""  # Harbor holds no secret any more: that is drift. A changed secret cannot be seen.
        inputs = {
            "harbor": props.get("harbor"),
            "name": live.get("name", ""),
            "type": live.get("type", ""),
            "url": live.get("url", ""),
            "access_key_id": cred.get("access_key") or "",
            "access_secret": secret,
            "insecure": bool(live.get("insecure", False)),
            "description": live.get("description") or "",
        }
        return ReadResult(
            id_, _registry_outs(inputs, int(id_), live, props.get("adopted", False)), inputs=inputs
        )

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = {k: _plain(v) for k, v in news.items()}
        client, rid = self._client(news), int(id_)
        client.put(f"/registries/{rid}", _registry_update_body(news), f"update registry '{news['name']}'")
        live = client.get(f"/registries/{rid}", f"read registry '{news['name']}'") or {}
        return UpdateResult(_registry_outs(news, rid, live, _olds.get("adopted", False)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = {k: _plain(v) for k, v in props.items()}
        op = f"delete registry '{props.get('name', id_)}'"
        try:
            self._client(props).delete(f"/registries/{int(id_)}", op)
        except HarborApiError as exc:
            if exc.status == 412:
                raise _with_hint(exc, "a proxy-cache project or replication policy still uses it") from None
            raise


def _registry_create_body(p: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": p["name"],
        "type": p["type"],
        "url": p["url"],
        "insecure": bool(p["insecure"]),
        "description": p["description"],
    }
    if p["access_key_id"] or p["access_secret"]:
        body["credential"] = {
            "type": "basic",
            "access_key": p["access_key_id"],
            "access_secret": p["access_secret"],
        }
    return body


def _registry_update_body(p: Mapping[str, Any]) -> dict[str, Any]:
    """``RegistryUpdate`` is flat; the secret is always sent (Harbor masks it, so it cannot be compared)."""
    return {
        "name": p["name"],
        "description": p["description"],
        "url": p["url"],
        "credential_type": "basic",
        "access_key": p["access_key_id"],
        "access_secret": p["access_secret"],
        "insecure": bool(p["insecure"]),
    }


def _registry_outs(
    inputs: Mapping[str, Any], rid: int, live: Mapping[str, Any], adopted: Any
) -> dict[str, Any]:
    outs = {k: inputs.get(k) for k in _REGISTRY_KEYS}
    outs.update(registry_id=rid, status=live.get("status", ""), adopted=bool(adopted))
    return outs


# --------------------------------------------------------------------------------------------- Project

_PROJECT_KEYS = (
    "harbor",
    "name",
    "public",
    "registry_id",
    "storage_limit",
    "proxy_speed_kb",
    "retention_days",
    "force_destroy",
)


class ProjectProvider(_HarborProvider):
    """CRUD for ``/projects``, its storage quota (``/quotas``) and its retention rule (``/retentions``)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = _Checker(news)
        c.endpoint()
        c.string("name", pattern=PROJECT_NAME_RE, max_len=255, hint=" (lower-case letters, digits, . _ -)")
        c.boolean("public", False)
        registry_id = c.integer("registry_id", None, minimum=1)
        limit = c.integer("storage_limit", -1, minimum=-1)
        if _known(limit) and limit == 0:
            c.fail("storage_limit", "must be -1 (unlimited) or a number of bytes > 0")
        speed = c.integer("proxy_speed_kb", -1, minimum=-1)
        if _known(speed) and speed == 0:
            c.fail("proxy_speed_kb", "must be -1 (unlimited) or kbps > 0")
        if registry_id is None and _known(speed) and speed != -1:
            c.fail("proxy_speed_kb", "applies only to a proxy-cache project (set registry_id)")
        # Omitted: what Harbor does (7 days on proxy projects, none on plain ones); None or 0: off.
        if "retention_days" not in c.news:
            c.news["retention_days"] = PROXY_DEFAULT_RETENTION_DAYS if registry_id is not None else 0
        c.integer("retention_days", 0, minimum=0)
        c.boolean("force_destroy", False)
        return c.result()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, _PROJECT_KEYS, ("name", "registry_id"), "project_id")

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = {k: _plain(v) for k, v in props.items()}
        client, name = self._client(props), props["name"]
        existing = client.get_project_by_name(name, f"look up project '{name}'")
        if existing is None:
            try:
                pid = client.create("/projects", _project_create_body(props), f"create project '{name}'")
            except HarborApiError as exc:
                if exc.status != 409:
                    raise
                existing = client.get_project_by_name(name, f"look up project '{name}'")
                if existing is None:
                    raise
        if existing is not None:
            live_registry = existing.get("registry_id") or None
            if live_registry != _as_int(props.get("registry_id")):
                raise HarborError(
                    f"create project '{name}': Harbor already has a project of that name with registry_id "
                    f"{live_registry}, not {props.get('registry_id')}; it cannot be adopted"
                )
            pid = int(existing["project_id"])
        _converge_project(client, pid, props)
        return CreateResult(str(pid), self._outs(client, pid, props, adopted=existing is not None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = {k: _plain(v) for k, v in props.items()}
        client = self._client(props)
        live = _read_project(client, int(id_), props)
        if live is None:
            return ReadResult("", {})
        inputs = {k: live[k] for k in _PROJECT_KEYS if k in live}
        inputs.update(harbor=props.get("harbor"), force_destroy=bool(props.get("force_destroy", False)))
        outs = {**inputs, "project_id": int(id_), "retention_id": live["retention_id"]}
        outs["adopted"] = bool(props.get("adopted", False))
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = {k: _plain(v) for k, v in news.items()}
        client = self._client(news)
        _converge_project(client, int(id_), news)
        return UpdateResult(self._outs(client, int(id_), news, adopted=olds.get("adopted", False)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = {k: _plain(v) for k, v in props.items()}
        client, pid = self._client(props), int(id_)
        live = client.get(f"/projects/{pid}", f"read project {pid}")
        if live is None:
            return
        name = live.get("name", props.get("name"))
        op = f"delete project '{name}'"
        for attempt in range(2):
            if props.get("force_destroy"):
                _empty_project(client, name)
            try:
                client.delete(f"/projects/{pid}", op)
                return
            except HarborApiError as exc:
                if exc.status != 412:
                    raise
                if not props.get("force_destroy"):
                    raise _with_hint(
                        exc,
                        "Harbor refuses (412) to delete a project that still has repositories (a proxy "
                        "cache has cached images); set force_destroy=true to delete its repositories first, "
                        "or empty it in Harbor",
                    ) from None
                if attempt == 1:
                    raise

    def _outs(
        self, client: HarborClient, pid: int, props: Mapping[str, Any], *, adopted: Any
    ) -> dict[str, Any]:
        live = _read_project(client, pid, props) or {}
        outs = {k: props.get(k) for k in _PROJECT_KEYS}
        outs.update(project_id=pid, retention_id=live.get("retention_id"), adopted=bool(adopted))
        return outs


def _project_metadata(p: Mapping[str, Any]) -> dict[str, str]:
    meta = {"public": "true" if p["public"] else "false"}
    if p.get("registry_id") is not None:
        meta["proxy_speed_kb"] = str(int(p["proxy_speed_kb"]))
    return meta


def _project_create_body(p: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_name": p["name"],
        "metadata": _project_metadata(p),
        "storage_limit": int(p["storage_limit"]),
    }
    if p.get("registry_id") is not None:
        body["registry_id"] = int(p["registry_id"])
    return body


def _project_quota(client: HarborClient, pid: int) -> dict[str, Any] | None:
    quotas = client.list_all(
        "/quotas", f"read quota of project {pid}", params={"reference": "project", "reference_id": str(pid)}
    )
    return quotas[0] if quotas else None


def _retention_days(policy: Mapping[str, Any] | None) -> int:
    for rule in (policy or {}).get("rules") or []:
        if rule.get("template") == RETENTION_TEMPLATE and not rule.get("disabled"):
            return int((rule.get("params") or {}).get(RETENTION_TEMPLATE) or 0)
    return 0


def _read_project(client: HarborClient, pid: int, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Live project fields in check()'s shape (plus ``retention_id``); ``None`` when it is gone."""
    project = client.get(f"/projects/{pid}", f"read project {pid}")
    if project is None:
        return None
    meta = project.get("metadata") or {}
    registry_id = project.get("registry_id") or None
    quota = _project_quota(client, pid)
    storage = (quota or {}).get("hard", {}).get("storage", props.get("storage_limit", -1))
    retention_id = meta.get("retention_id") or None
    policy = (
        client.get(f"/retentions/{int(retention_id)}", f"read retention of project {pid}")
        if retention_id
        else None
    )
    return {
        "name": project.get("name", ""),
        "public": meta.get("public") == "true",
        "registry_id": registry_id,
        "storage_limit": int(storage),
        "proxy_speed_kb": int(meta.get("proxy_speed_kb", -1)) if registry_id else -1,
        "retention_days": _retention_days(policy),
        "retention_id": _as_int(retention_id),
        "metadata": meta,
        "quota": quota,
        "policy": policy,
    }


def _retention_rule(days: int, rule_id: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "priority": 1,
        "disabled": False,
        "action": "retain",
        "template": RETENTION_TEMPLATE,
        "params": {RETENTION_TEMPLATE: days},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
        },
    }
    if rule_id is not None:
        rule["id"] = rule_id
    return rule


_RULE_FIELDS = (
    "id",
    "priority",
    "disabled",
    "action",
    "template",
    "params",
    "tag_selectors",
    "scope_selectors",
)


def _retention_body(policy: Mapping[str, Any], days: int, pid: int) -> dict[str, Any]:
    """The whole policy for PUT /retentions/{id}: our rule set to ``days`` or removed when 0, others kept."""
    others = [
        {k: r[k] for k in _RULE_FIELDS if k in r}
        for r in policy.get("rules") or []
        if r.get("template") != RETENTION_TEMPLATE
    ]
    ours = [r for r in policy.get("rules") or [] if r.get("template") == RETENTION_TEMPLATE]
    rules = others + ([_retention_rule(days, ours[0].get("id") if ours else None)] if days else [])
    trigger = policy.get("trigger") or {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}}
    return {
        "id": policy.get("id"),
        "algorithm": policy.get("algorithm") or "or",
        "rules": rules,
        "trigger": {k: trigger[k] for k in ("kind", "settings", "references") if k in trigger},
        "scope": {"level": "project", "ref": pid},
    }


def _converge_project(client: HarborClient, pid: int, p: Mapping[str, Any]) -> None:
    """Make metadata, quota and retention of project ``pid`` what ``p`` asks, touching only what differs."""
    name = p["name"]
    live = _read_project(client, pid, p)
    if live is None:
        raise HarborError(
            f"update project '{name}': project id {pid} no longer exists in Harbor; run pulumi refresh"
        )
    wanted_meta = _project_metadata(p)
    if any(live["metadata"].get(k) != v for k, v in wanted_meta.items()):
        # PUT merges metadata into the stored map, so explicit values are sent for every key we own.
        client.put(f"/projects/{pid}", {"metadata": wanted_meta}, f"update project '{name}'")
    limit = int(p["storage_limit"])
    if live["quota"] is None:
        if limit != -1:
            raise HarborError(f"update project '{name}': Harbor has no quota for project id {pid}")
    elif live["quota"].get("hard", {}).get("storage") != limit:
        client.put(
            f"/quotas/{int(live['quota']['id'])}",
            {"hard": {"storage": limit}},
            f"set storage quota of project '{name}'",
        )
    days = int(p.get("retention_days") or 0)
    if live["retention_days"] == days:
        return
    op = (
        f"set retention of project '{name}' to {days} days"
        if days
        else f"turn off retention of project '{name}'"
    )
    if live["policy"] is not None:
        client.put(f"/retentions/{live['retention_id']}", _retention_body(live["policy"], days, pid), op)
    elif days:
        body = _retention_body({}, days, pid)
        body.pop("id")
        client.create("/retentions", body, op)


def _empty_project(client: HarborClient, name: str) -> None:
    """Delete every repository of a project; nested names are URL-encoded twice (``a/b`` → ``a%252Fb``)."""
    base = f"/projects/{quote(name, safe='')}/repositories"
    for repo in client.list_all(base, f"list repositories of project '{name}'"):
        full = str(repo.get("name", ""))
        short = full[len(name) + 1 :] if full.startswith(name + "/") else full
        client.delete(f"{base}/{quote(quote(short, safe=''), safe='')}", f"delete repository '{full}'")


# --------------------------------------------------------------------------------------------- Replication

_POLICY_KEYS = (
    "harbor",
    "name",
    "description",
    "registry_id",
    "dest_namespace",
    "dest_namespace_replace_count",
    "name_filter",
    "tag_filter",
    "trigger",
    "cron",
    "override",
    "enabled",
    "speed",
    "run_on_change",
    "run_timeout",
)
_CRON_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {},
    {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
    {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())},
)


def _cron_value(text: str, idx: int) -> int:
    value = _CRON_NAMES[idx].get(text.upper()) if not text.isdigit() else int(text)
    low, high = _CRON_RANGES[idx]
    if value is None or not low <= value <= high:
        raise ValueError(f"{text!r} is outside {low}-{high}")
    return value


def cron_problem(cron: str) -> str | None:
    """Validate a replication cron as Harbor does: 6 fields with seconds, seconds ``0``, minutes not ``*``."""
    parts = cron.split(" ")
    if len(parts) != 6:
        return f"must have 6 space-separated fields (sec min hour dom month dow), got {len(parts)}"
    for idx, field in enumerate(parts):
        if field == "?" and idx in (3, 5):
            continue
        for item in field.split(","):
            base, _, step = item.partition("/")
            try:
                if step and (not step.isdigit() or int(step) == 0):
                    raise ValueError(f"bad step {step!r}")
                if base != "*":
                    for bound in base.split("-", 1):
                        _cron_value(bound, idx)
            except ValueError as exc:
                return f"field {idx + 1} ({field!r}): {exc}"
    if parts[0] != "0":
        return "the 1st field (seconds) must be 0"
    if parts[1] == "*":
        return "the 2nd field (minutes) must not be *"
    return None


class ReplicationPolicyProvider(_HarborProvider):
    """CRUD for a pull-based ``/replication/policies`` entry, optionally running it after each change."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = _Checker(news)
        c.endpoint()
        c.string("name", max_len=256)
        c.string("description", "")
        c.integer("registry_id", minimum=1)
        c.string("dest_namespace", pattern=PROJECT_NAME_RE, max_len=255, hint=" (a plain project's name)")
        c.integer("dest_namespace_replace_count", 0, minimum=-1)
        for key in ("name_filter", "tag_filter"):
            value = c.string(key, None)
            if value == "":
                c.out[key] = None
        trigger = c.string("trigger", "manual", choices=("manual", "scheduled"))
        cron = c.string("cron", None)
        if _known(trigger) and _known(cron):
            if trigger == "scheduled":
                problem = "is required for trigger 'scheduled'" if not cron else cron_problem(cron)
                if problem:
                    c.fail("cron", problem)
            elif cron:
                c.fail("cron", "is only used with trigger 'scheduled'")
            else:
                c.out["cron"] = None
        c.boolean("override", True)
        c.boolean("enabled", True)
        speed = c.integer("speed", 0, minimum=-1)
        if _known(speed) and isinstance(speed, int) and speed < 0:
            c.out["speed"] = 0  # Harbor stores negatives as 0 (unlimited)
        c.boolean("run_on_change", False)
        c.number("run_timeout", 600.0)
        return c.result()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, _POLICY_KEYS, (), "policy_id")

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = {k: _plain(v) for k, v in props.items()}
        client, name = self._client(props), props["name"]
        path = "/replication/policies"
        existing = client.find_by_name(path, name, f"look up replication policy '{name}'")
        if existing is None:
            try:
                pid = client.create(path, _policy_body(props), f"create replication policy '{name}'")
            except HarborApiError as exc:
                if exc.status != 409:
                    raise
                existing = client.find_by_name(path, name, f"look up replication policy '{name}'")
                if existing is None:
                    raise
        if existing is not None:
            pid = int(existing["id"])
            client.put(f"{path}/{pid}", _policy_body(props), f"update replication policy '{name}'")
        run = _run_policy(client, pid, props) if props["run_on_change"] and props["enabled"] else (None, None)
        return CreateResult(str(pid), _policy_outs(props, pid, run, adopted=existing is not None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = {k: _plain(v) for k, v in props.items()}
        client = self._client(props)
        live = client.get(f"/replication/policies/{int(id_)}", f"read replication policy {id_}")
        if live is None:
            return ReadResult("", {})
        filters = {f.get("type"): f.get("value") for f in live.get("filters") or []}
        trigger = live.get("trigger") or {}
        cron = (trigger.get("trigger_settings") or {}).get("cron") or None
        inputs = {
            "harbor": props.get("harbor"),
            "name": live.get("name", ""),
            "description": live.get("description") or "",
            "registry_id": (live.get("src_registry") or {}).get("id"),
            "dest_namespace": live.get("dest_namespace") or "",
            "dest_namespace_replace_count": live.get("dest_namespace_replace_count", -1),
            "name_filter": filters.get("name") or None,
            "tag_filter": filters.get("tag") or None,
            "trigger": trigger.get("type") or "manual",
            "cron": cron if trigger.get("type") == "scheduled" else None,
            "override": bool(live.get("override")),
            "enabled": bool(live.get("enabled")),
            "speed": int(live.get("speed") or 0),
            "run_on_change": bool(props.get("run_on_change", False)),
            "run_timeout": props.get("run_timeout", 600.0),
        }
        last_id, last_status = props.get("last_execution_id"), props.get("last_execution_status")
        if last_id:
            execution = client.get(
                f"/replication/executions/{int(last_id)}", f"read replication execution {last_id}"
            )
            last_status = (execution or {}).get("status", last_status)
        outs = _policy_outs(inputs, int(id_), (last_id, last_status), adopted=props.get("adopted", False))
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = {k: _plain(v) for k, v in news.items()}
        client, pid = self._client(news), int(id_)
        # PUT is a full replacement: every field is sent, or Harbor resets it (replace count → -1).
        client.put(
            f"/replication/policies/{pid}", _policy_body(news), f"update replication policy '{news['name']}'"
        )
        run: tuple[Any, Any] = (olds.get("last_execution_id"), olds.get("last_execution_status"))
        if news["run_on_change"] and news["enabled"]:
            run = _run_policy(client, pid, news)
        return UpdateResult(_policy_outs(news, pid, run, adopted=olds.get("adopted", False)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = {k: _plain(v) for k, v in props.items()}
        op = f"delete replication policy '{props.get('name', id_)}'"
        try:
            self._client(props).delete(f"/replication/policies/{int(id_)}", op)
        except HarborApiError as exc:
            if exc.status == 412:
                raise _with_hint(exc, "an execution of it is still running; stop it or wait") from None
            raise


def _policy_body(p: Mapping[str, Any]) -> dict[str, Any]:
    filters: list[dict[str, Any]] = []
    if p.get("name_filter"):
        filters.append({"type": "name", "value": p["name_filter"]})
    if p.get("tag_filter"):
        filters.append({"type": "tag", "value": p["tag_filter"], "decoration": "matches"})
    trigger: dict[str, Any] = {"type": p["trigger"]}
    if p["trigger"] == "scheduled":
        trigger["trigger_settings"] = {"cron": p["cron"]}
    return {
        "name": p["name"],
        "description": p["description"],
        "src_registry": {"id": int(p["registry_id"])},
        "dest_namespace": p["dest_namespace"],
        "dest_namespace_replace_count": int(p["dest_namespace_replace_count"]),
        "filters": filters,
        "trigger": trigger,
        "override": bool(p["override"]),
        "enabled": bool(p["enabled"]),
        "deletion": False,
        "replicate_deletion": False,
        "speed": int(p["speed"]),
        "copy_by_chunk": False,
        "single_active_replication": False,
    }


def _policy_outs(
    inputs: Mapping[str, Any], pid: int, run: tuple[Any, Any], *, adopted: Any
) -> dict[str, Any]:
    outs = {k: inputs.get(k) for k in _POLICY_KEYS}
    outs.update(
        policy_id=pid,
        last_execution_id=_as_int(run[0]),
        last_execution_status=run[1],
        adopted=bool(adopted),
    )
    return outs


def _run_policy(
    client: HarborClient, pid: int, p: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep
) -> tuple[int, str]:
    """Start one execution, wait (bounded by ``run_timeout``) for its result; raise unless it succeeded."""
    name = p["name"]
    eid = client.create("/replication/executions", {"policy_id": pid}, f"run replication policy '{name}'")
    deadline = time.monotonic() + float(p["run_timeout"])
    delay = 0.1
    while True:
        execution = (
            client.get(f"/replication/executions/{eid}", f"read execution {eid} of policy '{name}'") or {}
        )
        status = str(execution.get("status", ""))
        if status not in _RUNNING:
            break
        if time.monotonic() >= deadline:
            raise HarborError(
                f"replication policy '{name}': execution {eid} still {status} after "
                f"{float(p['run_timeout']):g}s; it goes on in Harbor"
            )
        sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
        delay = min(delay * 2, 5.0)
    if status != "Succeed":
        raise HarborError(
            f"replication policy '{name}': execution {eid} ended {status}: {execution.get('failed', 0)} of "
            f"{execution.get('total', 0)} tasks failed; {execution.get('status_text') or 'no status text'}"
        )
    return eid, status


# --------------------------------------------------------------------------------------------- Resources


def _endpoint_input(harbor: pulumi.Input[Any]) -> pulumi.Input[Any]:
    return harbor.to_dict() if isinstance(harbor, HarborEndpoint) else harbor


class Registry(Resource, module="harbor", name="Registry"):
    """An upstream registry endpoint in Harbor (``/registries``), e.g. Amazon ECR.

    Inputs: ``harbor``, ``name``, ``url``, ``type`` (``aws-ecr``|``docker-registry``|``harbor``; a change
    replaces), ``access_key_id``, ``access_secret`` (secret), ``insecure``, ``description``.
    Outputs: those plus ``registry_id``, ``status``, ``adopted``.
    """

    registry_id: pulumi.Output[int]
    status: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        harbor: pulumi.Input[Any],
        name: pulumi.Input[str],
        url: pulumi.Input[str],
        type: pulumi.Input[str] = "aws-ecr",
        access_key_id: pulumi.Input[str] = "",
        access_secret: pulumi.Input[str] | None = None,
        insecure: pulumi.Input[bool] = False,
        description: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "harbor": _endpoint_input(harbor),
            "name": name,
            "type": type,
            "url": url,
            "access_key_id": access_key_id,
            "access_secret": pulumi.Output.secret(access_secret if access_secret is not None else ""),
            "insecure": insecure,
            "description": description,
            "registry_id": None,
            "status": None,
            "adopted": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["access_secret"])
        )
        super().__init__(RegistryProvider(), resource_name, props, opts)


class Project(Resource, module="harbor", name="Project"):
    """A Harbor project: a proxy cache of ``registry_id`` or, without it, a plain project.

    Inputs: ``harbor``, ``name`` and ``registry_id`` (a change of either replaces), ``public``,
    ``storage_limit`` (bytes, -1 unlimited), ``proxy_speed_kb`` (proxy only, -1 unlimited),
    ``retention_days`` (the nDaysSinceLastPull rule; default 7 for proxy projects as Harbor does, 0 for
    plain ones; ``None``/0 turns it off), ``force_destroy`` (delete repositories before the project).
    Outputs: those plus ``project_id``, ``retention_id``, ``adopted``.
    """

    project_id: pulumi.Output[int]
    retention_id: pulumi.Output[int | None]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        harbor: pulumi.Input[Any],
        name: pulumi.Input[str],
        public: pulumi.Input[bool] = False,
        registry_id: pulumi.Input[int] | None = None,
        storage_limit: pulumi.Input[int] = -1,
        proxy_speed_kb: pulumi.Input[int] = -1,
        retention_days: pulumi.Input[int] | None = _MISSING,
        force_destroy: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if retention_days is _MISSING:
            retention_days = PROXY_DEFAULT_RETENTION_DAYS if registry_id is not None else 0
        props = {
            "harbor": _endpoint_input(harbor),
            "name": name,
            "public": public,
            "registry_id": registry_id,
            "storage_limit": storage_limit,
            "proxy_speed_kb": proxy_speed_kb,
            "retention_days": retention_days if retention_days is not None else 0,
            "force_destroy": force_destroy,
            "project_id": None,
            "retention_id": None,
            "adopted": None,
        }
        super().__init__(ProjectProvider(), resource_name, props, opts)


class ReplicationPolicy(Resource, module="harbor", name="ReplicationPolicy"):
    """A pull replication rule from registry ``registry_id`` into the plain project ``dest_namespace``.

    Inputs: ``harbor``, ``name``, ``description``, ``registry_id``, ``dest_namespace``,
    ``dest_namespace_replace_count`` (0 keeps paths), ``name_filter``, ``tag_filter``, ``trigger``
    (``manual``|``scheduled``), ``cron`` (6 fields, seconds first and ``0``), ``override``, ``enabled``,
    ``speed`` (kbps, 0 unlimited), ``run_on_change`` (start an execution after each create/update and wait up
    to ``run_timeout`` seconds; a failed run is an error). Outputs: those plus ``policy_id``,
    ``last_execution_id``, ``last_execution_status``, ``adopted``.
    """

    policy_id: pulumi.Output[int]
    last_execution_id: pulumi.Output[int | None]
    last_execution_status: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        harbor: pulumi.Input[Any],
        name: pulumi.Input[str],
        registry_id: pulumi.Input[int],
        dest_namespace: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        dest_namespace_replace_count: pulumi.Input[int] = 0,
        name_filter: pulumi.Input[str] | None = None,
        tag_filter: pulumi.Input[str] | None = None,
        trigger: pulumi.Input[str] = "manual",
        cron: pulumi.Input[str] | None = None,
        override: pulumi.Input[bool] = True,
        enabled: pulumi.Input[bool] = True,
        speed: pulumi.Input[int] = 0,
        run_on_change: pulumi.Input[bool] = False,
        run_timeout: pulumi.Input[float] = 600.0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "harbor": _endpoint_input(harbor),
            "name": name,
            "description": description,
            "registry_id": registry_id,
            "dest_namespace": dest_namespace,
            "dest_namespace_replace_count": dest_namespace_replace_count,
            "name_filter": name_filter,
            "tag_filter": tag_filter,
            "trigger": trigger,
            "cron": cron,
            "override": override,
            "enabled": enabled,
            "speed": speed,
            "run_on_change": run_on_change,
            "run_timeout": run_timeout,
            "policy_id": None,
            "last_execution_id": None,
            "last_execution_status": None,
            "adopted": None,
        }
        super().__init__(ReplicationPolicyProvider(), resource_name, props, opts)
