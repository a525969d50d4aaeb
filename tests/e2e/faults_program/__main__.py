"""Lock-test program: one slow dynamic resource."""

import pulumi
from slow_provider import Slow

slow = Slow("slow", seconds=float(pulumi.Config().get("seconds") or "8"))
pulumi.export("seconds", slow.seconds)
