"""Harbor's swagger (``swagger-v2.14.2.yaml``): its operations, routing a request to one, and checking the
request against the operation's parameters and body schema (jsonschema, Draft 4).

Where the swagger leaves an object open (``type: object`` without properties) any JSON is accepted, as
go-swagger does; unknown body fields are violations (Harbor would silently drop them). The file is read from
``$HARBOR_SWAGGER``, by default ``../shared/harbor/swagger-v2.14.2.yaml`` beside the repository.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from lab.paths import ROOT

SWAGGER_PATH = Path(os.environ.get("HARBOR_SWAGGER", ROOT.parent / "shared" / "harbor" / "swagger-v2.14.2.yaml"))


def to_jsonschema(node: Any) -> Any:
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
            out["properties"] = {k: to_jsonschema(v) for k, v in node["properties"].items()}
            out["additionalProperties"] = (
                to_jsonschema(node["additionalProperties"]) if "additionalProperties" in node else False
            )
        elif "additionalProperties" in node:
            out["additionalProperties"] = to_jsonschema(node["additionalProperties"])
        if "items" in node:
            out["items"] = to_jsonschema(node["items"])
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
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (a safe loader)
        self.definitions = {k: to_jsonschema(v) for k, v in doc["definitions"].items()}
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
                schema = None if body is None else {**to_jsonschema(body), "definitions": self.definitions}
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
        """Every way this request departs from the operation's definition that go-swagger rejects (422), each as
        ``"<where>: <go-swagger's message>"``."""
        where = f"{op.method} {op.template}"
        problems: list[str] = []
        declared = {p["name"]: p for p in op.params if p["in"] == "query"}
        for name, values in query.items():
            spec = declared.get(name)
            if spec is not None and len(values) != 1:
                problems.append(f"{where}: {name} in query given {len(values)} times")
            elif spec is not None:
                problems += _check_scalar(where, f"{name} in query", spec, values[0])
        for spec in op.params:
            if spec["in"] == "header" and headers.get(spec["name"]) is not None:
                problems += _check_scalar(where, f"{spec['name']} in header", spec, headers.get(spec["name"]))
            elif spec["in"] == "path":
                problems += _check_scalar(
                    where, f"{spec['name']} in path", spec, path_params.get(spec["name"], "")
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

    def unknown_query(self, op: Operation, query: dict[str, list[str]]) -> list[str]:
        """Query parameters the operation does not declare: go-swagger ignores them, the double records them."""
        declared = {p["name"] for p in op.params if p["in"] == "query"}
        where = f"{op.method} {op.template}"
        return [f"{where}: unknown query parameter {name!r}" for name in query if name not in declared]


def _check_scalar(where: str, what: str, spec: dict[str, Any], raw: str) -> list[str]:
    kind = spec.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return [f'{where}: {what} must be of type integer: "{raw}"']
        if "maximum" in spec and int(raw) > spec["maximum"]:
            return [f"{where}: {what} should be less than or equal to {spec['maximum']}"]
        if "minimum" in spec and int(raw) < spec["minimum"]:
            return [f"{where}: {what} should be greater than or equal to {spec['minimum']}"]
    elif kind == "boolean" and raw not in ("true", "false", "1", "0"):
        return [f'{where}: {what} must be of type boolean: "{raw}"']
    elif kind == "string" and len(raw) < spec.get("minLength", 0):
        return [f"{where}: {what} should be at least {spec['minLength']} chars long"]
    return []


@functools.lru_cache(maxsize=2)
def load_swagger(path: Path = SWAGGER_PATH) -> Swagger:
    """Parse the swagger once per process."""
    return Swagger(path)
