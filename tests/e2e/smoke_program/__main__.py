"""Engine smoke program: a dynamic resource and a ConfigMap on the local Kubernetes API server."""

import pulumi
import pulumi_kubernetes as k8s
from smoke_provider import Echo

config = pulumi.Config()
provider = k8s.Provider("local", kubeconfig=config.require("kubeconfig"), cluster_identifier="smoke")
echo = Echo("echo", value=config.get("message") or "hello")
config_map = k8s.core.v1.ConfigMap(
    "smoke", metadata={"name": "engine-smoke", "namespace": "default"},
    data={"digest": echo.digest, "value": echo.value},
    opts=pulumi.ResourceOptions(provider=provider))
pulumi.export("digest", echo.digest)
pulumi.export("configMap", config_map.metadata["name"])
