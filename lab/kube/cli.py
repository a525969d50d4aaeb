"""``python -m lab kube [--state-dir DIR] start [--crds] [--kyverno] [--timeout S] | stop | status | env``
(scripts/kube-local).

etcd, kube-apiserver and kube-controller-manager; ``--crds`` also applies the real cert-manager and Kyverno CRDs
(from the Go module cache, lab/kube/crds.py); ``--kyverno`` also starts Kyverno's admission controller as the API
server's mutating webhook (lab/controllers/kyverno_admission.py), which ``stop`` stops too.

The state folder (default $HARBOR_CACHE_KUBE_STATE or <repo>/.state/kube-local) holds the certificates, the
admin kubeconfig, etcd's data, the logs and the process ids. Ports are free ones picked at start, so this
can run next to the test suite's own instances. `eval "$(scripts/kube-local env)"` points kubectl at it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.kube.crds import crd_files
from lab.kube.local import LocalKube
from lab.kube.tools import KubeError
from lab.paths import ROOT

if TYPE_CHECKING:
    from lab.controllers.kyverno_admission import KyvernoAdmission


def default_state_dir() -> Path:
    """$HARBOR_CACHE_KUBE_STATE or <repo>/.state/kube-local (git-ignored)."""
    return Path(os.environ.get("HARBOR_CACHE_KUBE_STATE") or ROOT / ".state" / "kube-local")


def cmd_start(kube: LocalKube, args: argparse.Namespace) -> int:
    """Start (or report the running instance) and optionally apply the cert-manager and Kyverno CRDs."""
    if kube.is_ready():
        print(f"already running: {kube.server_url}", file=sys.stderr)
    else:
        kube.ready_timeout = args.timeout
        kube.start()
        print(f"started {kube.server_url} in {kube.start_seconds:.1f}s", file=sys.stderr)
    if args.crds:
        names = kube.apply_manifests(crd_files())
        print(f"applied {len(names)} cert-manager and Kyverno CRDs from the Go module cache", file=sys.stderr)
    if args.kyverno:
        admission = _kyverno(kube).start()
        print(f"Kyverno's admission controller: https://{admission.server} (log {admission.log_path})",
              file=sys.stderr)
    print(f'kubeconfig: {kube.kubeconfig_path}\nuse it: eval "$(scripts/kube-local env)"', file=sys.stderr)
    return 0


def cmd_stop(kube: LocalKube, _args: argparse.Namespace) -> int:
    """Stop the processes and remove the cluster's data (logs stay)."""
    was = kube.pids
    _kyverno(kube).stop()
    kube.stop()
    print("stopped" if was else "not running", file=sys.stderr)
    return 0


def _kyverno(kube: LocalKube) -> KyvernoAdmission:
    from lab.controllers.kyverno_admission import KyvernoAdmission  # lab.controllers builds on lab.kube

    return KyvernoAdmission(kube.state_dir / "kyverno", kube.kubeconfig_path)


def cmd_status(kube: LocalKube, _args: argparse.Namespace) -> int:
    """Exit 0 when ready, 1 when running but not ready, 3 when stopped."""
    if not kube.is_running():
        print("stopped")
        return 3
    ready = kube.is_ready()
    pids = " ".join(f"{k}={v}" for k, v in kube.pids.items())
    state = "ready" if ready else "running, not ready"
    print(f"{state}: {kube.server_url} ({pids}) kubeconfig={kube.kubeconfig_path}")
    return 0 if ready else 1


def cmd_restart_apiserver(kube: LocalKube, args: argparse.Namespace) -> int:
    """Stop kube-apiserver, keep it down, start it again on the same port and data (a fault to inject)."""
    if not kube.is_running():
        print("kube-local is not running", file=sys.stderr)
        return 3
    took = kube.restart_apiserver(args.down)
    print(f"kube-apiserver was unreachable for {took:.1f}s and is ready again: {kube.server_url}", file=sys.stderr)
    return 0


def cmd_env(kube: LocalKube, _args: argparse.Namespace) -> int:
    """Print shell exports for the running instance."""
    if not kube.is_running():
        print("kube-local is not running: scripts/kube-local start", file=sys.stderr)
        return 3
    for key, value in kube.env().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``kube`` and its actions."""
    parser = subparsers.add_parser("kube", description=__doc__.split("\n")[0],
                                   help="local etcd, kube-apiserver and kube-controller-manager (scripts/kube-local)")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), help="state folder")
    sub = parser.add_subparsers(dest="action", required=True)
    start = sub.add_parser("start", help="start etcd, kube-apiserver and kube-controller-manager, wait for them")
    start.add_argument("--crds", action="store_true", help="also apply the real cert-manager and Kyverno CRDs")
    start.add_argument("--kyverno", action="store_true",
                       help="also start Kyverno's admission controller as the mutating webhook")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for /readyz")
    start.set_defaults(kube_command=cmd_start)
    sub.add_parser("stop", help="stop and clean up").set_defaults(kube_command=cmd_stop)
    sub.add_parser("status", help="show whether it runs").set_defaults(kube_command=cmd_status)
    sub.add_parser("env", help="print export KUBECONFIG=...").set_defaults(kube_command=cmd_env)
    restart = sub.add_parser("restart-apiserver", help="stop and start kube-apiserver only (fault injection)")
    restart.add_argument("--down", type=float, default=0.0, help="seconds to keep it stopped")
    restart.set_defaults(kube_command=cmd_restart_apiserver)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; a KubeError becomes a one-line message and exit code 1."""
    try:
        return int(args.kube_command(LocalKube(args.state_dir), args))
    except KubeError as err:
        print(f"kube-local: {err}", file=sys.stderr)
        return 1
