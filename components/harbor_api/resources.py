"""The old home of the Harbor providers, kept because stack states name it. Do not delete or rename.

Every Harbor resource's state holds its provider pickled by reference (``__provider``): stacks created before
the providers moved (components/harbor_api/registry.py, project.py, replication.py) name
``components.harbor_api.resources.RegistryProvider``, ``...ProjectProvider`` and
``...ReplicationPolicyProvider``. The engine reads that string from a resource's stored outputs to refresh or
delete it, and a resource that does not change keeps its old string, so these names must keep resolving for as
long as such a state may exist. tests/provider/test_state_compat.py loads the strings that layout wrote
(tests/provider/data/providers-layout-1.json). New code imports from the modules above.
"""

from __future__ import annotations

from components.harbor_api.project import Project, ProjectProvider
from components.harbor_api.registry import Registry, RegistryProvider
from components.harbor_api.replication import ReplicationPolicy, ReplicationPolicyProvider

__all__ = [
    "Project",
    "ProjectProvider",
    "Registry",
    "RegistryProvider",
    "ReplicationPolicy",
    "ReplicationPolicyProvider",
]
