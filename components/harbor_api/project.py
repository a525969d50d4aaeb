"""``Project``: a Harbor project, a proxy cache of ``registry_id`` or, without it, a plain project.

Type token ``pulumi-python:dynamic/harbor:Project``. Harbor keeps a project's settings in two places: the
project's metadata (``public``, ``proxy_speed_kb``, as strings) and its quota (``/quotas``), so this provider
reads and writes them by hand rather than through ``harbor`` paths in its specs. Its retention policy is a
resource of its own (``ProjectRetention``, components/harbor_api/retention.py), so a refresh of either is one GET;
a state written when the project owned its retention (``retention_days``, ``retention_id``) drops those in an
update that writes nothing to Harbor.

Before a proxy-cache project is created, its registry is read: a missing one or a type the chart does not permit
for proxy caching would be Harbor's 500. After an unconfirmed create the project is looked up by name
(components/harbor_api/writes.py); a 500 that left nothing behind is explained (Harbor's job service, which a
proxy-cache project needs, is the usual cause). With Harbor's ``quota_per_project_enable`` off a project has no
quota: that is reported (``quota_enforced``, ``warnings``), not an error.
"""

# No `from __future__ import annotations` here: Schema reads the specs in ProjectInputs at import time.

from collections.abc import Mapping
from typing import Annotated, Any, Required, TypedDict, Unpack
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components import rules
from components.dynamic import plain, plain_props
from components.harbor_api import setting_names
from components.harbor_api.base import HarborProvider, as_int, create_or_adopt, delete_explaining_412
from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import CORE_LOG, jobservice_hint
from components.harbor_api.errors import HarborApiError, HarborError, HarborPreconditionFailedError
from components.harbor_api.fields import Endpoint, Flag, Text, Whole
from components.harbor_api.registry import PROXY_CACHE_TYPES
from components.harbor_api.schema import Checker, Options, Schema
from components.harbor_api.setting_names import UPSTREAM_TYPE, Settings, label
from components.harbor_api.writes import create_once

STORAGE_LIMIT_MAX = 1024**5
"""Harbor's largest storage quota, 1024 TB in bytes (a larger one is a 400)."""


class ProjectInputs(TypedDict, total=False):
    """The inputs of :class:`Project`, declared once (components/harbor_api/fields.py says what a spec does)."""

    harbor: Required[Annotated[pulumi.Input[Any], Endpoint()]]
    name: Required[Annotated[pulumi.Input[str], Text(rule=rules.project_name_problem, replaces=True)]]
    public: Annotated[pulumi.Input[bool], Flag(default=False)]
    registry_id: Annotated[pulumi.Input[int] | None, Whole(minimum=1, replaces=True)]
    storage_limit: Annotated[
        pulumi.Input[int],
        Whole(default=-1, minimum=-1, maximum=STORAGE_LIMIT_MAX, maximum_why=" (1024 TB, Harbor's limit)"),
    ]
    proxy_speed_kb: Annotated[pulumi.Input[int], Whole(default=-1, minimum=-1)]
    force_destroy: Annotated[pulumi.Input[bool], Flag(default=False)]


SCHEMA = Schema(
    ProjectInputs,
    id_output="project_id",
    outputs=("project_id", "adopted", "quota_enforced", "warnings"),
)
RETENTION_KEYS = ("retention_days", "retention_id")
"""What a project's state held before retention became ``ProjectRetention``: dropped by the next update."""


def _metadata(p: Mapping[str, Any]) -> dict[str, str]:
    meta = {"public": "true" if p["public"] else "false"}
    if p.get("registry_id") is not None:
        meta["proxy_speed_kb"] = str(int(p["proxy_speed_kb"]))
    return meta


def _create_body(p: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_name": p["name"],
        "metadata": _metadata(p),
        "storage_limit": int(p["storage_limit"]),
    }
    if p.get("registry_id") is not None:
        body["registry_id"] = int(p["registry_id"])
    return body


_UNREAD_QUOTA: dict[str, Any] = {"hard": {}}
"""A quota not read on refresh (no limit set): present, with no value that overrides the state's."""


def _quota(client: HarborClient, pid: int) -> dict[str, Any] | None:
    quotas = client.list_all(
        "/quotas", f"read quota of project {pid}", params={"reference": "project", "reference_id": str(pid)}
    )
    return quotas[0] if quotas else None


def _read_project(
    client: HarborClient, pid: int, props: Mapping[str, Any], *, all_parts: bool = True
) -> dict[str, Any] | None:
    """Live project fields in check()'s shape (plus ``metadata`` and ``quota``).

    With ``all_parts=False`` (refresh) only what the state depends on is read: the quota only when a storage
    limit is set. Without one, ``quota_enforced`` keeps what the state says, and a limit set by hand in Harbor
    is not seen by a refresh.
    """
    project = client.get(f"/projects/{pid}", f"read project {pid}")
    if project is None:
        return None
    meta = project.get("metadata") or {}
    registry_id = project.get("registry_id") or None
    if all_parts or int(props.get("storage_limit", -1)) != -1:
        quota = _quota(client, pid)
    else:  # no limit set: nothing to compare; whether Harbor keeps a quota stays what the state says
        quota = _UNREAD_QUOTA if props.get("quota_enforced", True) else None
    storage = (quota or {}).get("hard", {}).get("storage", props.get("storage_limit", -1))
    return {
        "name": project.get("name", ""),
        "public": meta.get("public") == "true",
        "registry_id": registry_id,
        "storage_limit": int(storage),
        "proxy_speed_kb": int(meta.get("proxy_speed_kb", -1)) if registry_id else -1,
        "metadata": meta,
        "quota": quota,
    }


def _converge(client: HarborClient, pid: int, p: Mapping[str, Any]) -> None:
    """Make metadata and quota of project ``pid`` what ``p`` asks, touching only what differs."""
    name = p["name"]
    live = _read_project(client, pid, p)
    if live is None:
        raise HarborError(
            f"update project '{name}': project id {pid} no longer exists in Harbor; run pulumi refresh"
        )
    wanted_meta = _metadata(p)
    if any(live["metadata"].get(k) != v for k, v in wanted_meta.items()):
        # PUT merges metadata into the stored map, so explicit values are sent for every key we own.
        client.put(f"/projects/{pid}", {"metadata": wanted_meta}, f"update project '{name}'")
    limit = int(p["storage_limit"])
    # No quota: Harbor's quota_per_project_enable is off; not an error, the outputs report it (_quota_warnings).
    if live["quota"] is not None and live["quota"].get("hard", {}).get("storage") != limit:
        client.put(
            f"/quotas/{int(live['quota']['id'])}",
            {"hard": {"storage": limit}},
            f"set storage quota of project '{name}'",
        )


def _empty_project(client: HarborClient, name: str) -> None:
    """Delete every repository of a project; nested names are URL-encoded twice (``a/b`` → ``a%252Fb``)."""
    base = f"/projects/{quote(name, safe='')}/repositories"
    for repo in client.list_all(base, f"list repositories of project '{name}'"):
        full = str(repo.get("name", ""))
        short = full[len(name) + 1 :] if full.startswith(name + "/") else full
        client.delete(f"{base}/{quote(quote(short, safe=''), safe='')}", f"delete repository '{full}'")


def _other_kind(existing: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    """Why an existing project of that name cannot be adopted: a proxy cache of another registry, or not one."""
    live_registry = existing.get("registry_id") or None
    if live_registry == as_int(props.get("registry_id")):
        return None
    return (
        f"Harbor already has a project of that name with registry_id {live_registry}, not "
        f"{props.get('registry_id')}; it cannot be adopted"
    )


def _quota_warnings(live: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
    """What to tell about a limit Harbor does not enforce (no quota: quota_per_project_enable is off)."""
    limit = int(props.get("storage_limit", -1))
    if live.get("quota") is not None or limit == -1:
        return []
    setting = label(setting_names.project_settings(props.get("registry_id")), "storage_limit")
    return [
        f"project '{props['name']}': Harbor keeps no quota for it (its system setting quota_per_project_enable "
        f"is off), so {setting} ({limit} bytes) is not enforced; turn quota_per_project_enable on in Harbor's "
        "configuration to enforce it"
    ]


def _outs(
    inputs: Mapping[str, Any], pid: int, live: Mapping[str, Any], props: Mapping[str, Any], *, adopted: Any
) -> dict[str, Any]:
    return SCHEMA.outs(
        inputs,
        project_id=pid,
        adopted=bool(adopted),
        quota_enforced=live.get("quota") is not None,
        warnings=_quota_warnings(live, props),
    )


def _live_outs(client: HarborClient, pid: int, props: Mapping[str, Any], *, adopted: Any) -> dict[str, Any]:
    return _outs(props, pid, _read_project(client, pid, props) or {}, props, adopted=adopted)


def _check_registry(client: HarborClient, registry_id: int, name: str) -> None:
    """Fail before Harbor's 500: the registry of a proxy-cache project must exist and be of a permitted type."""
    live = client.get(f"/registries/{registry_id}", f"read registry {registry_id} of project '{name}'")
    if live is None:
        raise HarborError(
            f"create project '{name}': its registry (id {registry_id}) does not exist in Harbor: it was "
            "deleted outside Pulumi; run `pulumi refresh`, then `pulumi up` creates the registry again"
        )
    if live.get("type") not in PROXY_CACHE_TYPES:
        raise HarborError(
            f"create project '{name}': registry '{live.get('name')}' has type {live.get('type')!r}, which "
            f"Harbor does not permit for a proxy cache (PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE); set "
            f"{UPSTREAM_TYPE} to one of {', '.join(sorted(PROXY_CACHE_TYPES))}"
        )


def _explain_create(client: HarborClient, props: Mapping[str, Any]) -> str:
    """Why a project create answered 500 and left nothing (for a proxy cache: its registry, or the job service)."""
    if props.get("registry_id") is None:
        return CORE_LOG
    try:
        _check_registry(client, int(props["registry_id"]), props["name"])
    except HarborError as exc:
        return str(exc)
    return jobservice_hint(client, "creating a proxy-cache project")


class ProjectProvider(HarborProvider):
    """CRUD for ``/projects`` and its storage quota (``/quotas``)."""

    schema = SCHEMA
    path = "/projects"
    noun = "project"
    in_use_hint = (
        "Harbor refuses (412) to delete a project that still has repositories (a proxy cache has cached "
        "images); set force_destroy=true to delete its repositories first, or empty it in Harbor"
    )
    settings = setting_names.PROXY_PROJECT

    def settings_for(self, news: Mapping[str, Any]) -> Settings:
        return setting_names.project_settings(plain(news.get("registry_id")))

    def refine(self, c: Checker) -> None:
        limit, speed = c.out["storage_limit"], c.out["proxy_speed_kb"]
        checked = {f.property for f in c.failures}  # the range checks of the inputs' specs, already reported
        if c.known("storage_limit") and isinstance(limit, int) and "storage_limit" not in checked:
            c.fail("storage_limit", rules.storage_limit_problem(limit))  # the settings' rule (components/rules)
        if c.known("proxy_speed_kb") and isinstance(speed, int) and "proxy_speed_kb" not in checked:
            c.fail("proxy_speed_kb", rules.proxy_speed_problem(speed))
        if c.out["registry_id"] is None and c.known("proxy_speed_kb") and speed != -1:
            c.fail("proxy_speed_kb", "applies only to a proxy-cache project (set registry_id)")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self.schema.diff(olds, news)
        dropped = [k for k in RETENTION_KEYS if k in olds]
        if not dropped:
            return result
        # A state from before ProjectRetention: an update in place that drops them (update writes nothing for them).
        return DiffResult(changes=True, replaces=result.replaces, stables=result.stables,
                          delete_before_replace=result.delete_before_replace)

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        client, name = self.client(props), props["name"]

        def post(find_id: Any) -> tuple[int, bool]:
            if props.get("registry_id") is not None:
                _check_registry(client, int(props["registry_id"]), name)
            return create_once(
                client, "/projects", _create_body(props), f"create project '{name}'",
                find=find_id, explain=lambda _exc: _explain_create(client, props),
            )

        pid, adopted = create_or_adopt(
            "project",
            name,
            lambda: client.get_project_by_name(name, f"look up project '{name}'"),
            post,
            id_key="project_id",
            adoptable=lambda existing: _other_kind(existing, props),
        )
        _converge(client, pid, props)
        return CreateResult(str(pid), _live_outs(client, pid, props, adopted=adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain_props(props)
        live = _read_project(self.client(props), int(id_), props, all_parts=False)
        if live is None:
            return ReadResult("", {})
        # Every input Harbor keeps comes from it; the others (harbor, force_destroy) from the state.
        inputs = {**SCHEMA.read({}, props), **{k: live[k] for k in SCHEMA.names if k in live}}
        outs = _outs(inputs, int(id_), live, props, adopted=props.get("adopted"))
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = plain_props(news)
        client = self.client(news)
        _converge(client, int(id_), news)
        return UpdateResult(_live_outs(client, int(id_), news, adopted=olds.get("adopted", False)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = plain_props(props)
        client, pid = self.client(props), int(id_)
        live = client.get(f"/projects/{pid}", f"read project {pid}")
        if live is None:
            return
        name = live.get("name", props.get("name"))
        path, op = f"/projects/{pid}", f"delete project '{name}'"
        try:
            self._delete(client, path, op, name, bool(props.get("force_destroy")))
        except HarborApiError as exc:
            if exc.status < 500 or not live.get("registry_id"):
                raise
            raise exc.with_hint(jobservice_hint(client, "deleting a proxy-cache project")) from None

    def _delete(self, client: HarborClient, path: str, op: str, name: str, force: bool) -> None:
        if not force:
            delete_explaining_412(client, path, op, self.in_use_hint)
            return
        for attempt in (1, 2):  # a pull may cache a new repository between emptying and deleting
            _empty_project(client, name)
            try:
                client.delete(path, op)
                return
            except HarborPreconditionFailedError:
                if attempt == 2:
                    raise


class Project(Resource, module="harbor", name="Project"):
    """A Harbor project: a proxy cache of ``registry_id`` or, without it, a plain project.

    Inputs (:class:`ProjectInputs`): ``harbor``, ``name`` and ``registry_id`` (a change of either replaces),
    ``public``, ``storage_limit`` (bytes, -1 unlimited), ``proxy_speed_kb`` (proxy only, -1 unlimited),
    ``force_destroy`` (delete repositories before the project). Its retention is ``ProjectRetention``.
    Outputs: those plus ``project_id``, ``adopted``, ``quota_enforced`` (False when Harbor
    keeps no quota: its ``quota_per_project_enable`` is off) and ``warnings`` (what to tell the user).
    """

    project_id: pulumi.Output[int]
    quota_enforced: pulumi.Output[bool]
    warnings: pulumi.Output[list[str]]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, opts: Options = None, **inputs: Unpack[ProjectInputs]) -> None:
        super().__init__(ProjectProvider(), resource_name, *SCHEMA.resource_args(inputs, opts))
