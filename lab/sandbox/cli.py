"""``python -m lab sandbox up|down|status|demo`` (``scripts/sandbox``): the person's sandbox in ``.sandbox`` for
the ``sandbox`` stack.

``demo`` starts the sandbox, runs ``pulumi up -s sandbox`` (file backend in ``.state``, passphrase from
``PULUMI_CONFIG_PASSPHRASE`` or the documented ``harbor-cache-sandbox``), pulls the test image on a node by its
upstream name and shows from nginx's log that Harbor's path served it, then prints the stack outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from lab.engine import engine_env
from lab.paths import ROOT, SANDBOX_PUBLIC_KEY
from lab.sandbox.box import Sandbox, SandboxSpec

STACK = "sandbox"
SANDBOX_DIR = ROOT / ".sandbox"
STATE_DIR = ROOT / ".state"
PASSPHRASE = "harbor-cache-sandbox"  # noqa: S105 (sandbox-only, documented in README and Pulumi.sandbox.yaml)


def pulumi_env() -> dict[str, str]:
    """The pulumi CLI on the repository's file backend with the sandbox passphrase."""
    STATE_DIR.mkdir(exist_ok=True)
    env = {**os.environ, **engine_env(STATE_DIR)}
    env["PULUMI_CONFIG_PASSPHRASE"] = os.environ.get("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    return env


def pulumi(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``pulumi`` in the project directory (output streamed unless captured); raises on failure."""
    return subprocess.run(["pulumi", *args], cwd=ROOT, env=pulumi_env(), text=True, check=True,
                          capture_output=capture)


def ensure_stack() -> None:
    """Create the sandbox stack in the file backend once (it keeps Pulumi.sandbox.yaml's salt)."""
    listed = pulumi("stack", "ls", "--json", capture=True).stdout
    if not any(s.get("name") == STACK for s in json.loads(listed or "[]")):
        pulumi("stack", "init", STACK, "--secrets-provider", "passphrase", capture=True)


def person_spec() -> SandboxSpec:
    """The fixed addresses of Pulumi.sandbox.yaml; the admin password decrypted from it."""
    password = pulumi("config", "get", "harbor-cache:adminPassword", "-s", STACK, capture=True).stdout.strip()
    return SandboxSpec(dir=str(SANDBOX_DIR), admin_password=password,
                       authorized_keys=[SANDBOX_PUBLIC_KEY.read_text().strip()])


def up() -> Sandbox:
    ensure_stack()
    print(f"starting the sandbox in {SANDBOX_DIR} (API server, controller manager, CRDs, cert-manager's "
          "controller, Kyverno's admission controller, Harbor API double, upstream registry, Harbor's pull path, "
          "3 nodes) ...", flush=True)
    box = Sandbox(person_spec()).up()
    print(f"sandbox up in {box.timings['start']}s")
    print(json.dumps(box.status(), indent=2))
    return box


def down() -> None:
    if (SANDBOX_DIR / "sandbox.json").exists():
        Sandbox.attach(SANDBOX_DIR).down()
    else:
        Sandbox(SandboxSpec(dir=str(SANDBOX_DIR), admin_password="")).down()
    print("sandbox down (processes stopped, network namespaces and bridge removed, cluster and double wiped). "
          "If the sandbox stack still lists resources, the next `scripts/sandbox demo` refreshes them away, or "
          "run `pulumi stack rm --force -s sandbox`.")


def status() -> int:
    if not (SANDBOX_DIR / "sandbox.json").exists():
        print("no sandbox running (scripts/sandbox up)")
        return 1
    print(json.dumps(Sandbox.attach(SANDBOX_DIR).status(), indent=2))
    return 0


def demo() -> int:
    box = up()
    print("\n== pulumi up -s sandbox", flush=True)
    pulumi("up", "-s", STACK, "--yes", "--refresh", "--skip-preview")
    node = box.bed.nodes[-1]
    print(f"\n== crictl pull {box.spec.image} on {node.name} ({node.flavor}), by its upstream name", flush=True)
    ok, requests = box.pulled_through_cache(node.name)
    print(f"nginx log of Harbor's pull path ({box.spec.host_addr}:{box.spec.harbor_port}):")
    for r in requests:
        print(f"  {r['client']} {r['method']} {r['path']} {r['status']}")
    print("pulled through the cache" if ok else "NOT pulled through the cache")
    print("\n== pulumi stack output -s sandbox", flush=True)
    pulumi("stack", "output", "-s", STACK)
    print("\nTear down: . scripts/env.sh && PULUMI_CONFIG_PASSPHRASE=harbor-cache-sandbox "
          "pulumi destroy -s sandbox --yes && scripts/sandbox down")
    return 0 if ok else 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sandbox``."""
    parser = subparsers.add_parser("sandbox", help="the sandbox for the `sandbox` stack (scripts/sandbox; root)",
                                   description=(__doc__ or "").split("\n")[0])
    parser.add_argument("action", choices=["up", "down", "status", "demo"])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the action; a failed pulumi command exits 1 with its output."""
    try:
        if args.action == "up":
            up()
        elif args.action == "down":
            down()
        elif args.action == "status":
            return status()
        else:
            return demo()
    except subprocess.CalledProcessError as exc:
        print(f"failed: {' '.join(exc.cmd)} exited {exc.returncode}\n{exc.stderr or ''}", file=sys.stderr)
        return 1
    return 0
