"""A Harbor v2.14 API test double: a real HTTP server on 127.0.0.1 that follows Harbor's swagger.

It serves the endpoints the harbor-cache client uses (registries, projects, repositories, quotas, retentions,
replication policies and executions, ping, health) with Harbor's status codes, headers (``Location``,
``X-Total-Count``, ``Link``, ``X-Request-Id``), masked secrets, 409/412 cases, metadata as strings, metadata
merge on project PUT, the 7-day retention Harbor attaches to proxy projects, and replication executions that
finish. Every request is checked against ``swagger-v2.14.2.yaml`` (path, query and header parameters, and the
body against the operation's definition, via jsonschema): a mismatch is answered with 422 and recorded in
:attr:`HarborDouble.violations`, so a test fails. Where the swagger leaves an object open (``type: object``
without properties) any JSON is accepted, as go-swagger does; unknown body fields are violations (Harbor would
silently drop them).

Faults: ``down`` (refuse connections), ``slow`` (delay each API request), ``fail_next`` (the next N API
requests answer ``fail_status``, 503 by default), ``unauthorized`` (401 to everything), ``registry_unhealthy``
(registry create/update/ping answer 400 "the registry is unhealthy"), ``health_unhealthy``,
``replication_result`` (``Succeed``/``Failed``) and ``execution_polls`` (GETs an execution stays InProgress).

Control API (no auth, on the API port and, when given, on a separate control port that stays up while the API
is ``down``): ``GET /_double/state``, ``GET|POST /_double/faults``, ``GET /_double/counts``,
``GET /_double/violations``, ``POST /_double/reset``, ``POST /_double/repositories`` ``{"project","name"}``.

Standalone::

    python -m tests.support.harbor_double --port 8080 --control-port 8081 \\
        --admin-password-file pw.txt --state-dir /tmp/harbor-double

writes ``<state-dir>/endpoint.json`` (``url``, ``control_url``, ``pid``) once listening and keeps the objects
in ``<state-dir>/state.json`` across restarts.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import functools
import json
import os
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import jsonschema
import yaml

API = "/api/v2.0"
SWAGGER_PATH = Path(
    os.environ.get(
        "HARBOR_SWAGGER", Path(__file__).resolve().parents[3] / "shared" / "harbor" / "swagger-v2.14.2.yaml"
    )
)
ECR_URL_RE = re.compile(
    r"https://(?:api|(\d+)\.dkr)\.ecr(?:-public|-fips)?\.([\w\-]+)\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)"
)
PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
REPO_PATH_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
REGISTRY_TYPES = {
    "harbor", "docker-hub", "docker-registry", "huawei-SWR", "google-gcr", "aws-ecr", "azure-acr", "ali-acr",
    "jfrog-artifactory", "quay", "gitlab", "dtr", "tencent-tcr", "github-ghcr", "volcengine-cr", "helm-hub",
    "artifact-hub",
}  # fmt: skip
PROXY_TYPES = {
    "docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr",
    "jfrog-artifactory",
}  # fmt: skip
BOOL_METADATA = {
    "public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "auto_scan",
    "auto_sbom_generation", "reuse_sys_cve_allowlist",
}  # fmt: skip
PROXY_ONLY_METADATA = {"proxy_speed_kb", "max_upstream_conn"}
ANONYMOUS_OPS = {"getPing", "getHealth"}
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
MASK = "*****"

Reply = tuple[int, Any, dict[str, str]]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _err(status: int, code: str, message: str) -> Reply:
    return status, {"errors": [{"code": code, "message": message}]}, {}


# ------------------------------------------------------------------------------------------ swagger


def _to_jsonschema(node: Any) -> Any:
    """Swagger 2.0 schema → JSON Schema draft 4, with go-swagger's reading of open objects and nullability."""
    if not isinstance(node, dict):
        return node
    nullable = bool(node.get("x-nullable") or node.get("x-isnullable"))
    if "$ref" in node:
        out: dict[str, Any] = {"$ref": node["$ref"]}
    elif node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
        out = {}  # interface{} in go-swagger: any JSON value
    else:
        out = {
            k: node[k]
            for k in ("type", "enum", "maximum", "minimum", "maxLength", "minLength", "pattern", "required")
            if k in node
        }
        fmt = node.get("format")
        if node.get("type") == "integer" and fmt in ("int8", "int32"):
            bits = {"int8": 7, "int32": 31}[fmt]
            out.setdefault("minimum", -(2**bits))
            out.setdefault("maximum", 2**bits - 1)
        if "properties" in node:
            out["properties"] = {k: _to_jsonschema(v) for k, v in node["properties"].items()}
            out["additionalProperties"] = (
                _to_jsonschema(node["additionalProperties"]) if "additionalProperties" in node else False
            )
        elif "additionalProperties" in node:
            out["additionalProperties"] = _to_jsonschema(node["additionalProperties"])
        if "items" in node:
            out["items"] = _to_jsonschema(node["items"])
    if nullable:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    """One swagger operation: method, path template, its parameters and body schema."""

    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    path_names: tuple[str, ...]
    params: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None


class Swagger:
    """The operations of ``swagger-v2.14.2.yaml`` and a validator for requests against them."""

    def __init__(self, path: Path = SWAGGER_PATH) -> None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        self.definitions = {k: _to_jsonschema(v) for k, v in doc["definitions"].items()}
        shared = doc.get("parameters", {})
        self.operations: list[Operation] = []
        for template, item in doc["paths"].items():
            names = tuple(re.findall(r"{([^}]+)}", template))
            regex = re.compile("^" + re.sub(r"{[^}]+}", "([^/]+)", template) + "/?$")
            for method, op in item.items():
                if method not in ("get", "put", "post", "delete", "head", "patch"):
                    continue
                params = tuple(
                    p if "$ref" not in p else shared[p["$ref"].rsplit("/", 1)[1]]
                    for p in op.get("parameters", [])
                )
                body = next((p["schema"] for p in params if p["in"] == "body"), None)
                schema = None if body is None else {**_to_jsonschema(body), "definitions": self.definitions}
                self.operations.append(
                    Operation(method.upper(), template, op["operationId"], regex, names, params, schema)
                )
        # Literal segments beat parameters (/registries/ping before /registries/{id}).
        self.operations.sort(key=lambda o: (o.template.count("{"), -len(o.template)))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method != method:
                continue
            m = op.regex.match(path)
            if m:
                return op, dict(zip(op.path_names, m.groups(), strict=True))
        return None

    def path_exists(self, path: str) -> bool:
        return any(op.regex.match(path) for op in self.operations)

    def validate(
        self, op: Operation, path_params: dict[str, str], query: dict[str, list[str]], headers: Any, body: Any
    ) -> list[str]:
        """Return every way this request departs from the operation's definition."""
        where = f"{op.method} {op.template}"
        problems: list[str] = []
        declared = {p["name"]: p for p in op.params if p["in"] == "query"}
        for name, values in query.items():
            spec = declared.get(name)
            if spec is None:
                problems.append(f"{where}: unknown query parameter {name!r}")
            elif len(values) != 1:
                problems.append(f"{where}: query parameter {name!r} given {len(values)} times")
            else:
                problems += _check_scalar(where, f"query {name}", spec, values[0])
        for spec in op.params:
            if spec["in"] == "header" and headers.get(spec["name"]) is not None:
                problems += _check_scalar(where, f"header {spec['name']}", spec, headers.get(spec["name"]))
            elif spec["in"] == "path":
                problems += _check_scalar(
                    where, f"path {spec['name']}", spec, path_params.get(spec["name"], "")
                )
            elif spec["in"] == "body" and spec.get("required") and body is None:
                problems.append(f"{where}: body is required")
        if op.body_schema is not None and body is not None:
            validator = jsonschema.Draft4Validator(op.body_schema)
            for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
                at = ".".join(str(p) for p in error.absolute_path) or "<body>"
                problems.append(f"{where}: body {at}: {error.message}")
        elif op.body_schema is None and body is not None:
            problems.append(f"{where}: takes no body")
        return problems


def _check_scalar(where: str, what: str, spec: dict[str, Any], raw: str) -> list[str]:
    kind = spec.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return [f"{where}: {what} must be an integer, got {raw!r}"]
        if "maximum" in spec and int(raw) > spec["maximum"]:
            return [f"{where}: {what} must be <= {spec['maximum']}, got {raw}"]
    elif kind == "boolean" and raw not in ("true", "false"):
        return [f"{where}: {what} must be true or false, got {raw!r}"]
    elif kind == "string" and len(raw) < spec.get("minLength", 0):
        return [f"{where}: {what} is too short"]
    return []


@functools.lru_cache(maxsize=2)
def load_swagger(path: Path = SWAGGER_PATH) -> Swagger:
    """Parse the swagger once per process."""
    return Swagger(path)


# ------------------------------------------------------------------------------------------ state


@dataclass
class Faults:
    """Switches a test flips to make the double misbehave."""

    down: bool = False
    slow: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    unauthorized: bool = False
    registry_unhealthy: bool = False
    health_unhealthy: bool = False
    replication_result: str = "Succeed"
    execution_polls: int = 1


def _empty_state() -> dict[str, Any]:
    return {
        "registries": {}, "projects": {}, "repositories": {}, "quotas": {}, "retentions": {},
        "policies": {}, "executions": {}, "next_id": 1,
    }  # fmt: skip


def _parse_q(q: str) -> list[tuple[str, str, Any]] | None:
    """Harbor's ``q``: ``k=v`` exact, ``k=~v`` fuzzy; quoted values are strings, bare digits integers."""
    out: list[tuple[str, str, Any]] = []
    for part in filter(None, q.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key:
            return None
        kind = "exact"
        if value.startswith("~"):
            kind, value = "fuzzy", value[1:]
        if value[:1] in ("[", "{", "("):
            return None
        parsed: Any = value
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            parsed = value[1:-1]
        elif value.isdigit():
            parsed = int(value)
        out.append((key, kind, parsed))
    return out


def _q_match(item: dict[str, Any], filters: list[tuple[str, str, Any]]) -> bool:
    for key, kind, value in filters:
        have = item.get(key)
        if kind == "fuzzy" and str(value) not in str(have):
            return False
        if kind == "exact" and have != value:
            return False
    return True


class HarborDouble:
    """The double: state, faults, counters, and the HTTP servers that expose them."""

    def __init__(
        self,
        admin_password: str = "Harbor12345",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
        state_dir: str | None = None,
        swagger: Swagger | None = None,
    ) -> None:
        self.admin_password = admin_password
        self.host, self.port, self.control_port = host, port, control_port
        self.state_dir = Path(state_dir) if state_dir else None
        self.swagger = swagger or load_swagger()
        self.lock = threading.RLock()
        self.state: dict[str, Any] = _empty_state()
        self.faults = Faults()
        self.counts: Counter[str] = Counter()
        self.violations: list[str] = []
        self.cookies_seen = 0
        self.requests: list[dict[str, Any]] = []
        self._api: ThreadingHTTPServer | None = None
        self._control: ThreadingHTTPServer | None = None
        self._server_lock = threading.Lock()
        if self.state_dir and (self.state_dir / "state.json").exists():
            self._load()

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port or self.port}"

    def start(self) -> HarborDouble:
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
        server = ThreadingHTTPServer((self.host, port), _make_handler(self))
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
        with self.lock:
            self.state = _empty_state()
            self.faults = Faults()
            self.counts.clear()
            self.violations.clear()
            self.cookies_seen = 0
            self.requests.clear()
        self.set_down(False)
        self._save()

    def set_faults(self, **changes: Any) -> None:
        down = changes.pop("down", None)
        with self.lock:
            for key, value in changes.items():
                if not hasattr(self.faults, key):
                    raise KeyError(key)
                setattr(self.faults, key, type(getattr(self.faults, key))(value))
        if down is not None:
            self.set_down(bool(down))

    def add_repository(self, project: str, name: str, artifacts: int = 1) -> None:
        """Simulate a cached or pushed image: repository ``<project>/<name>``."""
        with self.lock:
            p = self._project_by_name(project)
            if p is None:
                raise KeyError(project)
            repos = self.state["repositories"].setdefault(p["project_id"], {})
            full = f"{project}/{name}"
            repos[full] = {
                "id": self._next_id(), "project_id": p["project_id"], "name": full,
                "artifact_count": artifacts,
                "pull_count": 0, "creation_time": _now(), "update_time": _now(),
            }  # fmt: skip
        self._save()

    def count(self, method: str, template: str) -> int:
        return self.counts[f"{method} {template}"]

    def snapshot(self, raw: bool = False) -> dict[str, Any]:
        """A JSON-safe copy of the state; secrets masked unless ``raw``."""
        with self.lock:
            data = copy.deepcopy(self.state)
        if not raw:
            for reg in data["registries"].values():
                if reg.get("credential", {}).get("access_secret"):
                    reg["credential"]["access_secret"] = MASK
        return json.loads(json.dumps(data))

    # ---- persistence

    def _save(self) -> None:
        if self.state_dir:
            # Serialize and replace under the lock: concurrent requests share one temp file name.
            with self.lock:
                tmp = self.state_dir / "state.json.tmp"
                tmp.write_text(json.dumps(self.state), encoding="utf-8")
                tmp.replace(self.state_dir / "state.json")

    def _load(self) -> None:
        assert self.state_dir is not None
        data = json.loads((self.state_dir / "state.json").read_text(encoding="utf-8"))
        for key, value in data.items():
            if isinstance(value, dict):
                data[key] = {int(k): v for k, v in value.items()}
        self.state = data

    # ---- lookups (call with self.lock held)

    def _next_id(self) -> int:
        self.state["next_id"] += 1
        return int(self.state["next_id"])

    def _project_by_name(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self.state["projects"].values() if p["name"] == name), None)

    def _project_ref(self, ref: str, is_name: str | None) -> dict[str, Any] | None:
        if is_name != "true" and ref.isdigit():
            return self.state["projects"].get(int(ref))
        return self._project_by_name(ref)


# ------------------------------------------------------------------------------------------ handlers


def _paged(req: _Req, items: list[dict[str, Any]]) -> Reply:
    page = int(req.query.get("page", ["1"])[0])
    size = int(req.query.get("page_size", ["10"])[0])
    if page < 1 or size < 1:
        return _err(400, "BAD_REQUEST", "page and page_size must be positive")
    total = len(items)
    chunk = items[(page - 1) * size : page * size]
    links = []
    base = API + req.path
    others = {k: v[0] for k, v in req.query.items() if k not in ("page", "page_size")}
    if page * size < total:
        links.append(f'<{base}?{urlencode({**others, "page": page + 1, "page_size": size})}>; rel="next"')
    if page > 1:
        links.append(f'<{base}?{urlencode({**others, "page": page - 1, "page_size": size})}>; rel="prev"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = " , ".join(links)
    return 200, chunk, headers


def _filtered(req: _Req, items: list[dict[str, Any]]) -> list[dict[str, Any]] | Reply:
    q = req.query.get("q", [""])[0]
    filters = _parse_q(q) if q else []
    if filters is None:
        return _err(400, "BAD_REQUEST", f"invalid query string {q!r}")
    out = [i for i in items if _q_match(i, filters)]
    if "name" in req.query:  # the deprecated parameter is fuzzy
        out = [i for i in out if req.query["name"][0] in str(i.get("name", ""))]
    return sorted(out, key=lambda i: i.get("id") or i.get("project_id") or 0)


@dataclass
class _Req:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: Any
    body: Any


class _Api:
    """Harbor's behaviour per operationId, over the double's state (each call holds the state lock)."""

    def __init__(self, d: HarborDouble) -> None:
        self.d = d
        self.s = d.state

    # ---- ping / health

    def getPing(self, _r: _Req) -> Reply:
        return 200, "Pong", {"Content-Type": "text/plain"}

    def getHealth(self, _r: _Req) -> Reply:
        names = ["core", "portal", "jobservice", "registry", "registryctl", "database", "redis"]
        comps: list[dict[str, Any]] = [{"name": n, "status": "healthy"} for n in names]
        if self.d.faults.health_unhealthy:
            comps[2] = {"name": "jobservice", "status": "unhealthy", "error": "dial tcp: connection refused"}
        status = "unhealthy" if self.d.faults.health_unhealthy else "healthy"
        return 200, {"status": status, "components": comps}, {}

    # ---- registries

    def _registry_view(self, reg: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(reg)
        if out.get("credential", {}).get("access_secret"):
            out["credential"]["access_secret"] = MASK
        return out

    def _registry_problem(self, reg: dict[str, Any]) -> Reply | None:
        name = reg.get("name") or ""
        if not name or len(name) > 64:
            return _err(400, "BAD_REQUEST", "the registry name must be 1-64 characters")
        if reg.get("type") not in REGISTRY_TYPES:
            return _err(400, "BAD_REQUEST", f"invalid registry type {reg.get('type')!r}")
        url = reg.get("url") or ""
        if not re.match(r"^https?://[^/\s]+", url):
            return _err(400, "BAD_REQUEST", f"invalid url {url!r}")
        if reg["type"] == "aws-ecr" and not ECR_URL_RE.search(url):
            return _err(400, "BAD_REQUEST", f"the registry is unhealthy: bad aws url {url!r}")
        if self.d.faults.registry_unhealthy:
            return _err(400, "BAD_REQUEST", "the registry is unhealthy")
        return None

    def listRegistries(self, r: _Req) -> Reply:
        items = _filtered(r, [self._registry_view(x) for x in self.s["registries"].values()])
        return items if isinstance(items, tuple) else _paged(r, items)

    def createRegistry(self, r: _Req) -> Reply:
        body = r.body
        reg = {
            "name": body.get("name", ""), "type": body.get("type", ""),
            "url": (body.get("url") or "").rstrip("/"),
            "insecure": bool(body.get("insecure", False)), "description": body.get("description", ""),
        }  # fmt: skip
        cred = body.get("credential")
        if cred:
            reg["credential"] = {
                "type": cred.get("type") or "basic",
                "access_key": cred.get("access_key", ""),
                "access_secret": cred.get("access_secret", ""),
            }
        problem = self._registry_problem(reg)
        if problem:
            return problem
        if any(x["name"] == reg["name"] for x in self.s["registries"].values()):
            return _err(409, "CONFLICT", f"registry {reg['name']} already exists")
        rid = self.d._next_id()
        now = _now()
        reg.update(id=rid, status="healthy", creation_time=now, update_time=now)
        self.s["registries"][rid] = reg
        return 201, None, {"Location": f"{API}/registries/{rid}"}

    def _registry(self, r: _Req) -> dict[str, Any] | None:
        return self.s["registries"].get(int(r.params["id"]))

    def getRegistry(self, r: _Req) -> Reply:
        reg = self._registry(r)
        if reg is None:
            return _err(404, "NOT_FOUND", f"registry {r.params['id']} not found")
        return 200, self._registry_view(reg), {}

    def updateRegistry(self, r: _Req) -> Reply:
        reg = self._registry(r)
        if reg is None:
            return _err(404, "NOT_FOUND", f"registry {r.params['id']} not found")
        new = copy.deepcopy(reg)
        b = r.body
        for key in ("name", "description", "insecure"):
            if b.get(key) is not None:
                new[key] = b[key]
        if b.get("url") is not None:
            new["url"] = b["url"].rstrip("/")
        cred = new.setdefault("credential", {"type": "basic", "access_key": "", "access_secret": ""})
        if b.get("credential_type") is not None:
            cred["type"] = b["credential_type"]
        if b.get("access_key") is not None:
            cred["access_key"] = b["access_key"]
        if b.get("access_secret") is not None:
            cred["access_secret"] = b["access_secret"]
        problem = self._registry_problem(new)
        if problem:
            return problem
        if any(x["name"] == new["name"] and x["id"] != reg["id"] for x in self.s["registries"].values()):
            return _err(409, "CONFLICT", f"registry {new['name']} already exists")
        new["update_time"] = _now()
        self.s["registries"][reg["id"]] = new
        return 200, None, {}

    def deleteRegistry(self, r: _Req) -> Reply:
        reg = self._registry(r)
        if reg is None:
            return _err(404, "NOT_FOUND", f"registry {r.params['id']} not found")
        rid = reg["id"]
        used = [p["name"] for p in self.s["projects"].values() if p.get("registry_id") == rid]
        used += [
            p["name"]
            for p in self.s["policies"].values()
            if (p.get("src_registry") or {}).get("id") == rid
            or (p.get("dest_registry") or {}).get("id") == rid
        ]
        if used:
            return _err(
                412, "PRECONDITION", f"the registry {rid} is referenced by {', '.join(used)}, can not delete"
            )
        del self.s["registries"][rid]
        return 200, None, {}

    def pingRegistry(self, r: _Req) -> Reply:
        b = r.body
        reg = {"name": "ping", "type": b.get("type") or "", "url": b.get("url") or ""}
        if b.get("id"):
            stored = self.s["registries"].get(int(b["id"]))
            if stored is None:
                return _err(404, "NOT_FOUND", f"registry {b['id']} not found")
            reg = {**stored, "name": "ping"}
        problem = self._registry_problem(reg)
        return problem or (200, None, {})

    # ---- projects

    def _project_view(self, p: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(p)
        out["repo_count"] = len(self.s["repositories"].get(p["project_id"], {}))
        if not out.get("registry_id"):
            out.pop("registry_id", None)
        return out

    def _check_metadata(self, meta: dict[str, Any]) -> Reply | None:
        for key, value in meta.items():
            if value is None:
                continue
            if key in BOOL_METADATA and value not in ("true", "false"):
                return _err(400, "BAD_REQUEST", f"invalid value of {key}: {value!r}, must be true or false")
            if key in PROXY_ONLY_METADATA and not re.fullmatch(r"-?\d+", value):
                return _err(400, "BAD_REQUEST", f"invalid value of {key}: {value!r}")
        return None

    def listProjects(self, r: _Req) -> Reply:
        items = _filtered(r, [self._project_view(p) for p in self.s["projects"].values()])
        return items if isinstance(items, tuple) else _paged(r, items)

    def headProject(self, r: _Req) -> Reply:
        found = self.d._project_by_name(r.query["project_name"][0])
        return (200, None, {}) if found else _err(404, "NOT_FOUND", "project not found")

    def createProject(self, r: _Req) -> Reply:
        b = r.body
        name = b.get("project_name") or ""
        if not PROJECT_NAME_RE.match(name) or len(name) > 255:
            return _err(
                400,
                "BAD_REQUEST",
                f"project name is not in lower case or contains illegal characters: {name!r}",
            )
        if self.d._project_by_name(name):
            return _err(409, "CONFLICT", f"The project named {name} already exists")
        meta = dict(b.get("metadata") or {})
        problem = self._check_metadata(meta)
        if problem:
            return problem
        if meta.get("retention_id"):
            return _err(400, "BAD_REQUEST", "retention_id must be empty when creating a project")
        registry_id = b.get("registry_id")
        if registry_id is not None:
            if registry_id == 0:
                return _err(400, "BAD_REQUEST", "0 is invalid value of registry_id")
            reg = self.s["registries"].get(registry_id)
            if reg is None:
                return _err(400, "BAD_REQUEST", f"registry {registry_id} not found")
            if reg["type"] not in PROXY_TYPES:
                return _err(400, "BAD_REQUEST", f"unsupported registry type {reg['type']}")
        else:
            meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
        limit = b.get("storage_limit")
        limit = -1 if limit is None else limit
        if limit != -1 and limit <= 0:
            return _err(400, "BAD_REQUEST", f"invalid storage_limit {limit}")
        meta = {k: v for k, v in meta.items() if v is not None}
        meta.setdefault("public", "true" if b.get("public") else "false")
        pid = self.d._next_id()
        now = _now()
        self.s["projects"][pid] = {
            "project_id": pid, "owner_id": 1, "owner_name": "admin", "name": name,
            "registry_id": registry_id or 0,
            "creation_time": now, "update_time": now, "deleted": False, "togglable": True,
            "current_user_role_id": 1, "current_user_role_ids": [1], "metadata": meta,
            "cve_allowlist": {
                "id": pid, "project_id": pid, "items": [], "creation_time": now, "update_time": now,
            },
        }  # fmt: skip
        qid = self.d._next_id()
        self.s["quotas"][qid] = {
            "id": qid, "ref": {"id": pid, "name": name, "owner_name": "admin"}, "hard": {"storage": limit},
            "used": {"storage": 0}, "creation_time": now, "update_time": now,
        }  # fmt: skip
        if registry_id:
            rid = self._store_retention(
                {
                    "algorithm": "or",
                    "rules": [_default_rule(7)],
                    "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
                    "scope": {"level": "project", "ref": pid},
                }
            )
            meta["retention_id"] = str(rid)
        where = name if r.headers.get("X-Resource-Name-In-Location") == "true" else str(pid)
        return 201, None, {"Location": f"{API}/projects/{where}"}

    def _project(self, r: _Req) -> dict[str, Any] | None:
        ref = r.params.get("project_name_or_id") or r.params.get("project_name") or ""
        if "project_name" in r.params:
            return self.d._project_by_name(ref)
        return self.d._project_ref(ref, r.headers.get("X-Is-Resource-Name"))

    def getProject(self, r: _Req) -> Reply:
        p = self._project(r)
        return (200, self._project_view(p), {}) if p else _err(404, "NOT_FOUND", "project not found")

    def updateProject(self, r: _Req) -> Reply:
        p = self._project(r)
        if p is None:
            return _err(404, "NOT_FOUND", "project not found")
        meta = {k: v for k, v in (r.body.get("metadata") or {}).items() if v is not None}
        problem = self._check_metadata(meta)
        if problem:
            return problem
        if "retention_id" in meta and meta["retention_id"] != p["metadata"].get("retention_id"):
            return _err(400, "BAD_REQUEST", "the retention_id in the request does not match the project's")
        if not p.get("registry_id"):
            meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
        p["metadata"].update(meta)  # merged, as lib.JSONCopy into the stored map
        p["update_time"] = _now()
        return 200, None, {}

    def deleteProject(self, r: _Req) -> Reply:
        p = self._project(r)
        if p is None:
            return _err(404, "NOT_FOUND", "project not found")
        pid = p["project_id"]
        if self.s["repositories"].get(pid):
            return _err(
                412, "PRECONDITION", f"the project {p['name']} contains repositories, can not be deleted"
            )
        del self.s["projects"][pid]
        self.s["repositories"].pop(pid, None)
        for qid in [q["id"] for q in self.s["quotas"].values() if q["ref"]["id"] == pid]:
            del self.s["quotas"][qid]
        for rid in [x["id"] for x in self.s["retentions"].values() if x["scope"]["ref"] == pid]:
            del self.s["retentions"][rid]
        return 200, None, {}

    def getProjectDeletable(self, r: _Req) -> Reply:
        p = self._project(r)
        if p is None:
            return _err(404, "NOT_FOUND", "project not found")
        if self.s["repositories"].get(p["project_id"]):
            return 200, {"deletable": False, "message": "the project contains repositories"}, {}
        return 200, {"deletable": True}, {}

    # ---- repositories

    def listRepositories(self, r: _Req) -> Reply:
        p = self._project(r)
        if p is None:
            return _err(404, "NOT_FOUND", "project not found")
        items = _filtered(r, list(self.s["repositories"].get(p["project_id"], {}).values()))
        return items if isinstance(items, tuple) else _paged(r, items)

    def deleteRepository(self, r: _Req) -> Reply:
        p = self._project(r)
        if p is None:
            return _err(404, "NOT_FOUND", "project not found")
        # The router decoded the path once; Harbor unescapes the repository name a second time.
        full = f"{p['name']}/{unquote(r.params['repository_name'])}"
        repos = self.s["repositories"].get(p["project_id"], {})
        if full not in repos:
            return _err(404, "NOT_FOUND", f"repository {full} not found")
        del repos[full]
        return 200, None, {}

    # ---- quotas

    def listQuotas(self, r: _Req) -> Reply:
        items = list(self.s["quotas"].values())
        if "reference" in r.query and r.query["reference"][0] != "project":
            items = []
        if "reference_id" in r.query:
            items = [q for q in items if str(q["ref"]["id"]) == r.query["reference_id"][0]]
        return _paged(r, sorted(items, key=lambda q: q["id"]))

    def getQuota(self, r: _Req) -> Reply:
        q = self.s["quotas"].get(int(r.params["id"]))
        return (200, q, {}) if q else _err(404, "NOT_FOUND", "quota not found")

    def updateQuota(self, r: _Req) -> Reply:
        q = self.s["quotas"].get(int(r.params["id"]))
        if q is None:
            return _err(404, "NOT_FOUND", "quota not found")
        hard = r.body.get("hard") or {}
        for key, value in hard.items():
            if key != "storage":
                return _err(400, "BAD_REQUEST", f"resource {key} not supported")
            if value != -1 and value <= 0:
                return _err(400, "BAD_REQUEST", f"invalid hard limit {value} for {key}")
        q["hard"].update(hard)
        q["update_time"] = _now()
        return 200, None, {}

    # ---- retentions

    def _store_retention(self, policy: dict[str, Any]) -> int:
        rid = self.d._next_id()
        rules = []
        for rule in policy.get("rules") or []:
            rules.append({**rule, "id": rule.get("id") or self.d._next_id()})
        self.s["retentions"][rid] = {**policy, "id": rid, "rules": rules}
        return rid

    def _retention_problem(self, body: dict[str, Any]) -> Reply | None:
        scope = body.get("scope") or {}
        if scope.get("level") != "project" or scope.get("ref") not in self.s["projects"]:
            return _err(400, "BAD_REQUEST", "scope must reference an existing project")
        for rule in body.get("rules") or []:
            if rule.get("action") != "retain" or rule.get("template") not in (
                "nDaysSinceLastPull", "nDaysSinceLastPush", "latestPushedK", "latestPulledN", "always",
            ):  # fmt: skip
                return _err(400, "BAD_REQUEST", f"invalid retention rule {rule.get('template')!r}")
        if len(body.get("rules") or []) > 15:
            return _err(400, "BAD_REQUEST", "at most 15 rules")
        return None

    def createRetention(self, r: _Req) -> Reply:
        problem = self._retention_problem(r.body)
        if problem:
            return problem
        project = self.s["projects"][r.body["scope"]["ref"]]
        if project["metadata"].get("retention_id"):
            return _err(400, "BAD_REQUEST", "project already has retention policy")
        rid = self._store_retention({k: v for k, v in r.body.items() if k != "id"})
        project["metadata"]["retention_id"] = str(rid)
        return 201, None, {"Location": f"{API}/retentions/{rid}"}

    def getRetention(self, r: _Req) -> Reply:
        pol = self.s["retentions"].get(int(r.params["id"]))
        return (200, pol, {}) if pol else _err(404, "NOT_FOUND", "retention policy not found")

    def updateRetention(self, r: _Req) -> Reply:
        rid = int(r.params["id"])
        old = self.s["retentions"].get(rid)
        if old is None:
            return _err(404, "NOT_FOUND", "retention policy not found")
        problem = self._retention_problem(r.body)
        if problem:
            return problem
        rules = [{**rule, "id": rule.get("id") or self.d._next_id()} for rule in r.body.get("rules") or []]
        self.s["retentions"][rid] = {**r.body, "id": rid, "rules": rules}
        return 200, None, {}

    def deleteRetention(self, r: _Req) -> Reply:
        pol = self.s["retentions"].pop(int(r.params["id"]), None)
        if pol is None:
            return _err(404, "NOT_FOUND", "retention policy not found")
        project = self.s["projects"].get(pol["scope"]["ref"])
        if project:
            project["metadata"].pop("retention_id", None)
        return 200, None, {}

    # ---- replication

    def _policy_problem(self, b: dict[str, Any], pid: int | None) -> Reply | None:
        if not b.get("name"):
            return _err(400, "BAD_REQUEST", "name is required")
        src = (b.get("src_registry") or {}).get("id") or 0
        dst = (b.get("dest_registry") or {}).get("id") or 0
        if (src == 0) == (dst == 0):
            return _err(
                400,
                "BAD_REQUEST",
                "either src_registry or dest_registry should be empty and the other one shouldn't be empty",
            )
        reg = self.s["registries"].get(src or dst)
        if reg is None:
            return _err(400, "BAD_REQUEST", f"registry {src or dst} not found")
        ns = b.get("dest_namespace") or ""
        if ns and not REPO_PATH_RE.match(ns):
            return _err(400, "BAD_REQUEST", f"invalid dest_namespace {ns!r}")
        for f in b.get("filters") or []:
            kind, value, deco = f.get("type"), f.get("value"), f.get("decoration")
            if kind not in ("name", "tag", "label", "resource"):
                return _err(400, "BAD_REQUEST", f"invalid filter type {kind!r}")
            if kind == "label" and not isinstance(value, list):
                return _err(400, "BAD_REQUEST", "the value of a label filter must be a string array")
            if kind != "label" and not isinstance(value, str):
                return _err(400, "BAD_REQUEST", f"the value of a {kind} filter must be a string")
            if deco and (kind not in ("tag", "label") or deco not in ("matches", "excludes")):
                return _err(400, "BAD_REQUEST", f"invalid decoration {deco!r} for filter {kind}")
        trigger = b.get("trigger") or {"type": "manual"}
        ttype = trigger.get("type") or "manual"
        if ttype not in ("manual", "scheduled", "event_based"):
            return _err(400, "BAD_REQUEST", f"invalid trigger type {ttype!r}")
        if ttype == "event_based" and src and reg["type"] == "aws-ecr":
            return _err(400, "BAD_REQUEST", "the adapter aws-ecr does not support trigger event_based")
        if ttype == "scheduled":
            cron = (trigger.get("trigger_settings") or {}).get("cron") or ""
            parts = cron.split(" ")
            if not cron:
                return _err(
                    400, "BAD_REQUEST", "the cron string cannot be empty when the trigger type is scheduled"
                )
            if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Za-z*/,?\-]+", p) for p in parts):
                return _err(400, "BAD_REQUEST", f"invalid cron string {cron!r}")
            if parts[0] != "0":
                return _err(
                    400,
                    "BAD_REQUEST",
                    "the 1st field (indicating Seconds of time) of the cron setting must be 0",
                )
            if parts[1] == "*":
                return _err(
                    400,
                    "BAD_REQUEST",
                    "the 2nd field (indicating Minute of time) of the cron setting must not be *",
                )
        if b.get("single_active_replication") and ttype == "event_based":
            return _err(
                400, "BAD_REQUEST", "single active replication is not allowed with event_based trigger"
            )
        if any(p["name"] == b["name"] and p["id"] != pid for p in self.s["policies"].values()):
            return _err(409, "CONFLICT", f"policy {b['name']} already exists")
        return None

    def _policy_from_body(self, b: dict[str, Any], pid: int, created: str) -> dict[str, Any]:
        src = (b.get("src_registry") or {}).get("id") or 0
        dst = (b.get("dest_registry") or {}).get("id") or 0
        trigger = b.get("trigger") or {"type": "manual"}
        replace = b.get("dest_namespace_replace_count")
        speed = b.get("speed") or 0
        return {
            "id": pid, "name": b["name"], "description": b.get("description") or "",
            "src_registry": {"id": src} if src else None, "dest_registry": {"id": dst} if dst else None,
            "dest_namespace": b.get("dest_namespace") or "",
            "dest_namespace_replace_count": -1 if replace is None else replace,
            "filters": b.get("filters") or [],
            "trigger": {"type": trigger.get("type") or "manual",
                        "trigger_settings": {
                            "cron": (trigger.get("trigger_settings") or {}).get("cron") or "",
                        }},
            "deletion": bool(b.get("deletion")), "override": bool(b.get("override")),
            "enabled": bool(b.get("enabled")), "speed": speed if speed > 0 else 0,
            "copy_by_chunk": bool(b.get("copy_by_chunk")),
            "single_active_replication": bool(b.get("single_active_replication")),
            "creation_time": created, "update_time": _now(),
        }  # fmt: skip

    def _policy_view(self, p: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(p)
        out["replicate_deletion"] = out["deletion"]
        for side in ("src_registry", "dest_registry"):
            ref = out.pop(side)
            if ref and ref["id"] in self.s["registries"]:
                out[side] = self._registry_view(self.s["registries"][ref["id"]])
        return out

    def listReplicationPolicies(self, r: _Req) -> Reply:
        items = _filtered(r, [self._policy_view(p) for p in self.s["policies"].values()])
        return items if isinstance(items, tuple) else _paged(r, items)

    def createReplicationPolicy(self, r: _Req) -> Reply:
        problem = self._policy_problem(r.body, None)
        if problem:
            return problem
        pid = self.d._next_id()
        self.s["policies"][pid] = self._policy_from_body(r.body, pid, _now())
        return 201, None, {"Location": f"{API}/replication/policies/{pid}"}

    def getReplicationPolicy(self, r: _Req) -> Reply:
        p = self.s["policies"].get(int(r.params["id"]))
        return (200, self._policy_view(p), {}) if p else _err(404, "NOT_FOUND", "policy not found")

    def updateReplicationPolicy(self, r: _Req) -> Reply:
        pid = int(r.params["id"])
        old = self.s["policies"].get(pid)
        if old is None:
            return _err(404, "NOT_FOUND", "policy not found")
        problem = self._policy_problem(r.body, pid)
        if problem:
            return problem
        self.s["policies"][pid] = self._policy_from_body(
            r.body, pid, old["creation_time"]
        )  # full replacement
        return 200, None, {}

    def deleteReplicationPolicy(self, r: _Req) -> Reply:
        pid = int(r.params["id"])
        if pid not in self.s["policies"]:
            return _err(404, "NOT_FOUND", "policy not found")
        running = [
            e for e in self.s["executions"].values() if e["policy_id"] == pid and e["status"] == "InProgress"
        ]
        if running:
            return _err(412, "PRECONDITION", "the policy has running executions")
        del self.s["policies"][pid]
        for eid in [e["id"] for e in self.s["executions"].values() if e["policy_id"] == pid]:
            del self.s["executions"][eid]
        return 200, None, {}

    def startReplication(self, r: _Req) -> Reply:
        pid = r.body.get("policy_id")
        policy = self.s["policies"].get(pid)
        if policy is None:
            return _err(404, "NOT_FOUND", f"policy {pid} not found")
        if not policy["enabled"]:
            return _err(400, "BAD_REQUEST", f"the policy {pid} is disabled")
        eid = self.d._next_id()
        self.s["executions"][eid] = {
            "id": eid, "policy_id": pid, "status": "InProgress", "status_text": "", "trigger": "manual",
            "start_time": _now(), "total": 1, "failed": 0, "succeed": 0, "in_progress": 1, "stopped": 0,
            "_polls_left": self.d.faults.execution_polls, "_result": self.d.faults.replication_result,
        }  # fmt: skip
        return 201, None, {"Location": f"{API}/replication/executions/{eid}"}

    def _execution_view(self, e: dict[str, Any]) -> dict[str, Any]:
        if e["status"] == "InProgress":
            if e["_polls_left"] > 0:
                e["_polls_left"] -= 1
            else:
                ok = e["_result"] == "Succeed"
                e.update(
                    status=e["_result"], end_time=_now(), in_progress=0, succeed=1 if ok else 0,
                    failed=0 if ok else 1,
                    status_text="" if ok else "1 of 1 tasks failed: pull manifest: 401",
                )  # fmt: skip
        return {k: v for k, v in e.items() if not k.startswith("_")}

    def getReplicationExecution(self, r: _Req) -> Reply:
        e = self.s["executions"].get(int(r.params["id"]))
        return (200, self._execution_view(e), {}) if e else _err(404, "NOT_FOUND", "execution not found")

    def listReplicationExecutions(self, r: _Req) -> Reply:
        items = [self._execution_view(e) for e in self.s["executions"].values()]
        if "policy_id" in r.query:
            items = [e for e in items if str(e["policy_id"]) == r.query["policy_id"][0]]
        return _paged(r, items)


def _default_rule(days: int) -> dict[str, Any]:
    return {
        "priority": 0, "disabled": False, "action": "retain", "template": "nDaysSinceLastPull",
        "params": {"nDaysSinceLastPull": days},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}],
        },
    }  # fmt: skip


# ------------------------------------------------------------------------------------------ HTTP


def _make_handler(d: HarborDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "harbor-double"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def do_HEAD(self) -> None:
            self._handle("HEAD")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def _reply(self, method: str, reply: Reply) -> None:
            status, body, headers = reply
            ctype = headers.pop("Content-Type", "application/json")
            if body is None:
                data = b""
            elif isinstance(body, str) and ctype.startswith("text/"):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", self.headers.get("X-Request-Id") or uuid.uuid4().hex)
            # Real Harbor hands out a session cookie; a client that sends it back gets 403 on writes.
            self.send_header("Set-Cookie", f"sid={uuid.uuid4().hex}; Path=/; HttpOnly")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self, method: str) -> None:
            raw_path, _, raw_query = self.path.partition("?")
            if raw_path.startswith("/_double/"):
                self._reply(method, _control(d, method, raw_path, self._body()))
                return
            self._reply(method, self._api(method, raw_path, raw_query))

        def _api(self, method: str, raw_path: str, raw_query: str) -> Reply:
            raw = self._body()
            if d.faults.slow:
                time.sleep(d.faults.slow)
            path = unquote(raw_path)  # Go's server decodes the path once before routing
            if not path.startswith(API + "/"):
                return _err(404, "NOT_FOUND", f"{path} not found")
            sub = path[len(API) :]
            found = d.swagger.match(method, sub)
            cookie = self.headers.get("Cookie") or ""
            with d.lock:
                d.requests.append({"method": method, "path": sub, "cookie": bool(cookie)})
                if cookie:
                    d.cookies_seen += 1
                if found is not None:
                    d.counts[f"{method} {found[0].template}"] += 1
                if d.faults.fail_next > 0:
                    d.faults.fail_next -= 1
                    return _err(d.faults.fail_status, "UNKNOWN", "injected failure")
            if found is None:
                if d.swagger.path_exists(sub):
                    return _err(405, "METHOD_NOT_ALLOWED", f"{method} not allowed on {sub}")
                return _err(404, "NOT_FOUND", f"{sub} not found")
            op, params = found
            if "sid=" in cookie and method in WRITE_METHODS:
                return _err(403, "FORBIDDEN", "CSRF token invalid")
            if op.operation_id not in ANONYMOUS_OPS:
                if d.faults.unauthorized or not self._authorized():
                    return _err(401, "UNAUTHORIZED", "unauthorized")
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    d.violations.append(f"{method} {op.template}: body is not JSON")
                    return _err(400, "BAD_REQUEST", "body is not JSON")
            query = parse_qs(raw_query, keep_blank_values=True)
            problems = d.swagger.validate(op, params, query, self.headers, body)
            if problems:
                with d.lock:
                    d.violations.extend(problems)
                return _err(422, "UNPROCESSABLE_ENTITY", "; ".join(problems))
            handler: Callable[[_Req], Reply] | None = getattr(_Api(d), op.operation_id, None)
            if handler is None:
                d.violations.append(
                    f"{method} {op.template}: {op.operation_id} is not implemented by the double"
                )
                return _err(501, "UNKNOWN", f"{op.operation_id} not implemented by the double")
            with d.lock:
                reply = handler(_Req(method, sub, params, query, self.headers, body))
            if method in WRITE_METHODS and reply[0] < 300:
                d._save()
            return reply

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization") or ""
            if not header.startswith("Basic "):
                return False
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == "admin" and password == d.admin_password

    return Handler


def _control(d: HarborDouble, method: str, path: str, raw: bytes) -> Reply:
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return _err(400, "BAD_REQUEST", "body is not JSON")
    if path == "/_double/state" and method == "GET":
        return 200, d.snapshot(), {}
    if path == "/_double/counts" and method == "GET":
        return 200, dict(d.counts), {}
    if path == "/_double/violations" and method == "GET":
        return 200, list(d.violations), {}
    if path == "/_double/faults":
        if method == "POST":
            try:
                if "down" in body:  # shutting the API server down from one of its own threads would block
                    threading.Thread(target=d.set_down, args=(bool(body.pop("down")),), daemon=True).start()
                d.set_faults(**body)
            except (KeyError, TypeError, ValueError) as exc:
                return _err(400, "BAD_REQUEST", f"bad fault: {exc}")
        return 200, asdict(d.faults), {}
    if path == "/_double/reset" and method == "POST":
        threading.Thread(target=d.reset, daemon=True).start() if d.faults.down else d.reset()
        return 200, {"reset": True}, {}
    if path == "/_double/repositories" and method == "POST":
        try:
            d.add_repository(str(body["project"]), str(body["name"]), int(body.get("artifacts", 1)))
        except KeyError as exc:
            return _err(404, "NOT_FOUND", f"no such project or field: {exc}")
        return 201, None, {}
    return _err(404, "NOT_FOUND", f"unknown control path {method} {path}")


# ------------------------------------------------------------------------------------------ standalone


def main(argv: list[str] | None = None) -> None:
    """Run the double until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.harbor_double", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument(
        "--control-port", type=int, default=None, help="separate control port (stays up when down)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--admin-password-file", help="file holding the admin password (default Harbor12345)")
    parser.add_argument("--state-dir", help="directory for endpoint.json and state.json")
    args = parser.parse_args(argv)
    password = "Harbor12345"
    if args.admin_password_file:
        password = Path(args.admin_password_file).read_text(encoding="utf-8").strip()
    double = HarborDouble(
        password, host=args.host, port=args.port, control_port=args.control_port, state_dir=args.state_dir
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({"url": double.url, "control_url": double.control_url}), flush=True)
    stop.wait()
    double.stop()


if __name__ == "__main__":
    main()
