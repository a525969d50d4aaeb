"""The real cert-manager and Kyverno CRDs, read where the Go module cache keeps them (never copied here).

Both projects ship their CRDs as plain YAML in their Go modules: cert-manager in ``deploy/crds/`` (its chart's
``templates/crd-*.yaml`` are Helm templates), Kyverno in ``config/crds/`` (its ``charts/kyverno/charts/crds``
are Helm templates too). ``scripts/build-tools crds`` (run by ``scripts/setup``) downloads both modules at the
pinned versions with ``go mod download``; this module finds the files in ``$GOMODCACHE``.

Only the kinds the program and the controllers use are applied: Kyverno's policy CRDs are 1.4 MB
each, so the rest would only slow every sandbox start.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.kube.tools import KubeToolsMissing
from lab.paths import read_versions


@dataclass(frozen=True)
class CrdModule:
    """A Go module at a version (a key of scripts/versions.env) and the CRD files it ships."""

    module: str
    version_key: str
    files: tuple[str, ...]

    @property
    def version(self) -> str:
        return "v" + read_versions()[self.version_key]


CERT_MANAGER = CrdModule("github.com/cert-manager/cert-manager", "CERT_MANAGER_VERSION", tuple(
    f"deploy/crds/cert-manager.io_{kind}.yaml"
    for kind in ("certificates", "certificaterequests", "issuers", "clusterissuers")))
KYVERNO = CrdModule("github.com/kyverno/kyverno", "KYVERNO_VERSION", tuple(
    f"config/crds/kyverno/kyverno.io_{kind}.yaml" for kind in ("clusterpolicies", "policies")))
MODULES = (CERT_MANAGER, KYVERNO)
# Every kind Kyverno's admission controller watches (it refuses to start without the policies, and its informers
# never sync without the rest): policies, exceptions, update requests, global context entries and the
# policies.kyverno.io kinds. Applied by lab/controllers/kyverno_admission.py before it starts, not with MODULES.
KYVERNO_ADMISSION = CrdModule("github.com/kyverno/kyverno", "KYVERNO_VERSION", (
    *KYVERNO.files,
    *(f"config/crds/kyverno/kyverno.io_{kind}.yaml"
      for kind in ("policyexceptions", "updaterequests", "globalcontextentries")),
    *(f"config/crds/policies.kyverno.io/policies.kyverno.io_{kind}.yaml"
      for kind in ("validatingpolicies", "namespacedvalidatingpolicies", "mutatingpolicies",
                   "namespacedmutatingpolicies", "generatingpolicies", "namespacedgeneratingpolicies",
                   "imagevalidatingpolicies", "namespacedimagevalidatingpolicies", "policyexceptions")),
))


def module_cache() -> Path:
    """$GOMODCACHE, else what ``go env GOMODCACHE`` says, else Go's default ($GOPATH or ~/go)/pkg/mod."""
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    try:
        out = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, timeout=30, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except OSError:
        pass
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0] or str(Path.home() / "go")
    return Path(gopath) / "pkg" / "mod"


def _escaped(module: str) -> str:
    """The module path as the cache spells it (an upper-case letter becomes '!' + lower case)."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in module)


def crd_files(modules: tuple[CrdModule, ...] = MODULES) -> list[Path]:
    """The CRD files of `modules` in the Go module cache; KubeToolsMissing (naming the fix) when absent."""
    cache = module_cache()
    found: list[Path] = []
    missing: list[Path] = []
    for mod in modules:
        root = cache / f"{_escaped(mod.module)}@{mod.version}"
        for rel in mod.files:
            (found if (root / rel).is_file() else missing).append(root / rel)
    if missing:
        raise KubeToolsMissing(
            f"the cert-manager and Kyverno CRDs are not in the Go module cache ({cache}): missing "
            f"{', '.join(str(m) for m in missing)}. Run scripts/setup (or scripts/build-tools crds) first.")
    return found
