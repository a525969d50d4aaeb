"""Run the policy fixture program under Pulumi mocks and print the resources it registers, as JSON.

`python -m tests.policy.mock_run <variant> <stack>` (a separate process: mocks are global to the runtime).
Each entry is `[type, name, inputs]` with the inputs as the SDK sends them to the engine.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).parent / "program"


def main(variant: str, stack: str) -> None:
    os.environ["PULUMI_CONFIG"] = json.dumps({
        "policy-fixture:variant": variant, "policy-fixture:repo": str(ROOT),
        "policy-fixture:kubeconfig": "unused", "policy-fixture:upstreamSecretKey": "mock-secret-key"})
    import pulumi
    from pulumi.runtime import MockResourceArgs, Mocks, set_mocks
    from pulumi.runtime.stack import wait_for_rpcs
    from pulumi.runtime.sync_await import _sync_await

    registered: list[list[Any]] = []

    class Recorder(Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered.append([args.typ, args.name, args.inputs])
            outputs = {**args.inputs, "registry_id": 1} if args.typ.endswith(":Registry") else args.inputs
            return f"{args.name}-id", outputs

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    set_mocks(Recorder(), project="policy-fixture", stack=stack, preview=True)
    sys.path.insert(0, str(PROGRAM))
    runpy.run_path(str(PROGRAM / "__main__.py"), run_name="__main__")
    _sync_await(wait_for_rpcs())  # let every registration reach the mocks
    print(json.dumps([r for r in registered if not r[0].startswith("pulumi:providers:")], default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
