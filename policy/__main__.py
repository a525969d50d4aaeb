"""Entry point of the policy pack: builds the PolicyPack, which serves the engine until it is stopped.

The engine runs `python <this directory>`; the repository root goes on sys.path so the pack's modules import
as the `policy` package, as they do in the unit tests. Nothing else belongs here (the constructor blocks).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.policies import DEFAULT_ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    enforcement_level=DEFAULT_ENFORCEMENT,
    policies=POLICIES,
    description=("Guardrails for harbor-cache stacks: pinned charts, a big enough registry, verified TLS, "
                 "working containerd mirrors, sound replication, a long-lived CA, a safe image rewrite and "
                 "secrets kept secret."),
)
