"""Reads harbor-cache's outputs through a StackReference, as a workload program would."""

import pulumi

config = pulumi.Config()
source = pulumi.StackReference(config.require("source"))
prefix = source.require_output("imagePrefix")
pulumi.export("imagePrefix", prefix)
pulumi.export("image", pulumi.Output.concat(prefix, "/quickstart/hello:v1"))
pulumi.export("caCertificate", source.get_output("caCertificate"))
pulumi.export("cacheProjects", source.require_output("cacheProjects"))
