"""The whole sandbox (``python -m lab sandbox``, ``scripts/sandbox``): local Kubernetes with the stand-in
controllers, the test bed's nodes and registries, and the Harbor double, together in one directory."""

from lab.sandbox.box import Sandbox, SandboxSpec, default_flavors

__all__ = ["Sandbox", "SandboxSpec", "default_flavors"]
