"""`prewarm`: images pulled through Harbor's proxy project once, by `pulumi up`, so no node meets a cold cache.

Each entry of `images` is an upstream image reference (`<registry host>/<repository>:<tag>`, or `@sha256:...`),
whose registry host says which upstream (and so which proxy project) it belongs to, or an object naming a
`repository` of an upstream and its `tags`, with `upstream` (an upstream's `name`) defaulting to the only upstream.
The pull itself is components/prewarm.py; docs/prewarm.md says where it runs and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from components import rules
from components.settings.base import Section, at, report
from components.settings.types import Flag, HttpUrl, ImageRef, Whole, checked

if TYPE_CHECKING:
    from components.settings.upstreams import Upstream

KEY = "prewarm"
Platform = Annotated[str, checked(lambda v: None if _is_platform(v) else
                                  f"{v!r} is not a platform: os/architecture[/variant], e.g. linux/amd64")]
ImageTag = Annotated[str, checked(lambda v: None if rules.image_reference_problem(f"x:{v}") is None and ":" not in v
                             else f"{v!r} is not a tag: letters, digits, '_', '.', '-' (at most 128)")]


def _is_platform(value: str) -> bool:
    parts = value.split("/")
    return 2 <= len(parts) <= 3 and all(p and p.replace("_", "").isalnum() and p == p.lower() for p in parts)


class RepositoryTags(Section):
    """One repository of an upstream and the tags of it to pre-warm."""

    repository: str = Field(min_length=1)
    tags: list[ImageTag] = Field(min_length=1)
    upstream: str | None = None

    @model_validator(mode="after")
    def _repository(self) -> RepositoryTags:
        with_host = rules.image_registry(self.repository) != "docker.io" or self.repository.startswith("docker.io/")
        if with_host or rules.image_reference_problem(f"{self.repository}:{self.tags[0]}"):
            report([at("repository", f"{self.repository!r} is not a repository path: lowercase, e.g. "
                                     "quickstart/hello (without the registry host)")])
        return self


def _entry_kind(value: Any) -> str:
    return "reference" if isinstance(value, str) else "repository"


# An entry is a reference (a string) or a repository with tags (an object): errors name only the kind given.
Entry = Annotated[Annotated[ImageRef, Tag("reference")] | Annotated[RepositoryTags, Tag("repository")],
                  Discriminator(_entry_kind)]


class PrewarmSettings(Section):
    """`prewarm`: what to pull through Harbor once per change of the list or of Harbor's endpoint."""

    images: list[Entry] = Field(default_factory=list)
    platforms: list[Platform] = Field(default_factory=lambda: ["linux/amd64"], min_length=1)
    fail_on_error: Flag = False
    timeout_seconds: Whole = Field(600, ge=10, le=86400)
    registry_url: HttpUrl | None = None


@dataclass(frozen=True)
class PrewarmImage:
    """One image to pre-warm, resolved to its upstream: ``setting`` names the entry for messages."""

    setting: str
    upstream: str  # the upstream's name
    project: str  # its proxy-cache project
    image: str  # the upstream image reference, ``<host>/<repository>:<tag>``


def prewarm_problems(settings: PrewarmSettings, upstreams: list[Upstream]) -> list[str]:
    """What is wrong with the entries given the stack's upstreams (model.py's cross-section check)."""
    return resolve(settings, upstreams)[1]


def resolve(settings: PrewarmSettings, upstreams: list[Upstream]) -> tuple[list[PrewarmImage], list[str]]:
    """Each entry with its upstream and proxy project; problems (each naming its ``harbor-cache:prewarm...``)."""
    images: list[PrewarmImage] = []
    problems: list[str] = []
    by_name = {u.settings.name: u for u in upstreams}
    for index, entry in enumerate(settings.images):
        key = f"harbor-cache:{KEY}.images[{index}]"
        if isinstance(entry, str):
            host = rules.image_registry(entry)
            owner = next((u for u in upstreams if host in u.hosts), None)
            if owner is None:
                hosts = ", ".join(h for u in upstreams for h in u.hosts)
                problems.append(f"{key}: {entry!r} is on {host}, which no upstream serves ({hosts}): name an image "
                                "of an upstream's registry host, or add that registry as an upstream")
                continue
            refs = [entry]
        else:
            if entry.upstream is not None:
                owner = by_name.get(entry.upstream)
                if owner is None:
                    problems.append(f"{key}.upstream: {entry.upstream!r} is not an upstream's name (have: "
                                    f"{', '.join(by_name) or 'none'})")
                    continue
            elif len(upstreams) == 1:
                owner = upstreams[0]
            else:
                problems.append(f"{key}.upstream: must be set with several upstreams (one of "
                                f"{', '.join(by_name)})")
                continue
            refs = [f"{owner.settings.host}/{entry.repository}:{tag}" for tag in entry.tags]
        if owner.project is None:
            problems.append(f"{key}: upstream {owner.settings.name!r} has no proxy-cache project "
                            "(proxyProject.enabled is false): pre-warming pulls through that project")
            continue
        images += [PrewarmImage(key, owner.settings.name, owner.project, ref) for ref in refs]
    seen: set[tuple[str, str]] = set()
    for image in images:
        if (image.project, image.image) in seen:
            problems.append(f"{image.setting}: {image.image!r} is listed twice")
        seen.add((image.project, image.image))
    return images, problems
