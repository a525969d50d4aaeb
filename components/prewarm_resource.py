"""``PrewarmImages``: the dynamic resource that pulls the ``prewarm`` images through Harbor once.

Type token ``pulumi-python:dynamic/prewarm:PrewarmImages`` (module path, class names and property names are
stack-state format). It runs in the provider process, on the machine running ``pulumi up`` (docs/prewarm.md
says why not in a cluster Job), with components/prewarm.py. It pulls on create and again only when the list, the
platforms or Harbor's registry endpoint change (then only what is not warm yet, or everything after an endpoint
change), and an ``up`` after a failed image retries the failed ones. ``refresh`` reads nothing.

A failed image is named with Harbor's (the upstream's) answer in ``failed`` and logged as a warning by the
program; the stack fails only with ``prewarm.failOnError: true``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, UpdateResult

from components.dynamic import SecretConfiguredProvider, known, plain_props
from components.harbor_api.setting_names import ADMIN_PASSWORD

_ENDPOINT_KEYS = ("registry_url", "ca_pem", "username")
_PULL_KEYS = ("platforms", "timeout")
FAIL_ON_ERROR = "harbor-cache:prewarm.failOnError"


@dataclass(frozen=True)
class PrewarmTarget:
    """One image: its upstream reference (what the settings name) and Harbor's proxy project for it."""

    image: str
    project: str
    upstream: str

    def harbor_parts(self) -> tuple[str, str, str]:
        """(project, repository inside it, tag or digest), as Harbor's proxy project names the image."""
        from components.verification import harbor_image

        found = harbor_image(self.image, self.project)
        return found.project, found.repository, found.reference


@dataclass(frozen=True)
class PrewarmArgs:
    """Inputs of :class:`PrewarmImages`: ``registry_url`` is Harbor's registry endpoint as seen from here."""

    registry_url: str
    targets: Sequence[PrewarmTarget]
    username: str = "admin"
    ca_pem: pulumi.Input[str] | None = None
    platforms: Sequence[str] = ("linux/amd64",)
    fail_on_error: bool = False
    timeout: float = 600.0


def warm_targets(props: Mapping[str, Any], password: str, only: set[str] | None = None
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Pull each target (or those in ``only``); (warm image -> what was pulled, failed image -> why)."""
    from components.prewarm import PrewarmError, warm_image

    warm: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for target in [PrewarmTarget(**t) for t in props.get("targets") or []]:
        if only is not None and target.image not in only:
            continue
        project, repository, reference = target.harbor_parts()
        try:
            result = warm_image(
                str(props["registry_url"]), project, repository, reference, ca_pem=str(props.get("ca_pem") or ""),
                credentials=(str(props.get("username") or "admin"), password) if password else None,
                platforms=list(props.get("platforms") or []) or None, timeout=float(props.get("timeout") or 600))
        except PrewarmError as exc:
            failed[target.image] = f"{exc} (upstream {target.upstream})"
            continue
        warm[target.image] = result.to_dict()
    return warm, failed


def _outs(props: Mapping[str, Any], warm: Mapping[str, Any], failed: Mapping[str, str]) -> dict[str, Any]:
    wanted = [t["image"] for t in props.get("targets") or []]
    return {**props, "warm": [i for i in wanted if i in warm], "pulled": dict(warm), "failed": dict(failed)}


class PrewarmProvider(SecretConfiguredProvider):
    """Pull the targets through Harbor on create and on a change of the list or of the endpoint."""

    secret_config_key = ADMIN_PASSWORD
    config_value_example = "<password>"

    def _run(self, props: dict[str, Any], only: set[str] | None, kept: Mapping[str, Any]) -> dict[str, Any]:
        warm, failed = warm_targets(props, self.secret, only)
        if failed and props.get("fail_on_error"):
            lines = "\n  ".join(failed.values())
            raise RuntimeError(f"pre-warm failed for {len(failed)} image(s) ({FAIL_ON_ERROR} is true):\n  {lines}")
        wanted = {t["image"] for t in props.get("targets") or []}
        return _outs(props, {**{k: v for k, v in kept.items() if k in wanted}, **warm}, failed)

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        return CreateResult("prewarm", self._run(props, None, {}))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in (*_ENDPOINT_KEYS, *_PULL_KEYS, "targets", "fail_on_error")
                   if not known(news.get(k)) or olds.get(k) != news.get(k)]
        if olds.get("failed"):
            changed.append("failed")  # retry what failed last time
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = plain_props(news)
        again = any(olds.get(k) != news.get(k) for k in (*_ENDPOINT_KEYS, *_PULL_KEYS))
        kept: Mapping[str, Any] = {} if again else (olds.get("pulled") or {})
        only = None if again else {t["image"] for t in news.get("targets") or [] if t["image"] not in kept}
        return UpdateResult(self._run(news, only, kept))


class PrewarmImages(Resource, module="prewarm", name="PrewarmImages"):
    """The ``prewarm`` images pulled through Harbor's proxy projects. Outputs: ``warm`` (the images now in the
    cache, as the settings name them), ``failed`` (image -> why), ``pulled`` (image -> digest, blobs, bytes)."""

    warm: pulumi.Output[list[str]]
    failed: pulumi.Output[dict[str, str]]
    pulled: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: PrewarmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "registry_url": args.registry_url.rstrip("/"), "username": args.username,
            "ca_pem": args.ca_pem if args.ca_pem is not None else "",
            "targets": [{"image": t.image, "project": t.project, "upstream": t.upstream} for t in args.targets],
            "platforms": list(args.platforms), "fail_on_error": args.fail_on_error, "timeout": args.timeout,
            "warm": None, "pulled": None, "failed": None,
        }
        super().__init__(PrewarmProvider(), name, props, opts)
        self.failed.apply(_warn_failures)


def _warn_failures(failed: Mapping[str, str] | None) -> None:
    for reason in (failed or {}).values():
        pulumi.log.warn(f"{reason}; the stack goes on ({FAIL_ON_ERROR} is false), the next `pulumi up` tries again")
