"""``count`` no-logic resources: the baseline the harbor-cache stack's preview/refresh are compared with."""

import pulumi
from noop_provider import Noop

for i in range(pulumi.Config().require_int("count")):
    Noop(f"noop-{i}", value=f"v{i}")
