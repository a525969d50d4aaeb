# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,union-attr"
"""Stacks written before the providers moved keep working: the provider strings they stored load as the new ones.

tests/provider/data/providers-layout-1.json holds the ``__provider`` strings the old layout (every provider in
components/harbor_api/resources.py) wrote into state. The engine hands such a string back to the provider
process to refresh or delete a resource, and to check and diff one that has not changed since.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime import proto, rpc
from pulumi.runtime._serialization import _deserialize
from pulumi.runtime.proto import provider_pb2_grpc

from components.harbor_api.project import ProjectProvider
from components.harbor_api.registry import RegistryProvider
from components.harbor_api.replication import ReplicationPolicyProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, PASSWORD
from tests.provider.worlds import fake_upstream, healthy_world  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
LAYOUT_1 = json.loads((Path(__file__).parent / "data" / "providers-layout-1.json").read_text())["providers"]
NEW_CLASSES: dict[str, type[ResourceProvider]] = {
    "RegistryProvider": RegistryProvider,
    "ProjectProvider": ProjectProvider,
    "ReplicationPolicyProvider": ReplicationPolicyProvider,
}
STACK_CONFIG = {"harbor-cache:adminPassword": PASSWORD}


def _load(serialized: str) -> Any:
    """What the SDK's provider process does with a ``__provider`` string (pulumi/dynamic/__main__.py)."""
    provider = _deserialize(lambda: dill.loads(base64.b64decode(serialized)))
    provider.configure(ConfigureRequest(Config(raw_config=STACK_CONFIG, project_name="harbor-cache")))
    return provider


def _sample(name: str, harbor: dict[str, Any]) -> tuple[dict[str, Any], str, Any]:
    """Inputs for one provider, and one input whose change replaces (or updates) the object."""
    if name == "RegistryProvider":
        return {"harbor": harbor, "name": "ecr", "url": ECR_URL, "access_key_id": "AK", "access_secret": "S"}, \
            "type", "docker-registry"
    if name == "ProjectProvider":
        return {"harbor": harbor, "name": "mif", "registry_id": 3.0}, "name", "mif2"
    return {"harbor": harbor, "name": "pull", "registry_id": 1, "dest_namespace": "mif-replica",
            "trigger": "scheduled", "cron": "0 0 */6 * * *"}, "speed", 100


def test_fixture_is_the_old_layout() -> None:
    assert set(LAYOUT_1) == set(NEW_CLASSES)
    for name, serialized in LAYOUT_1.items():
        blob = base64.b64decode(serialized)
        assert b"components.harbor_api.resources" in blob and name.encode() in blob


@pytest.mark.parametrize("name", sorted(NEW_CLASSES))
def test_old_string_loads_as_the_new_provider_and_checks_and_diffs(name: str, harbor: dict[str, Any]) -> None:
    provider = _load(LAYOUT_1[name])
    assert type(provider) is NEW_CLASSES[name]
    news, key, other = _sample(name, harbor)
    checked = provider.check({}, news)
    assert checked.failures == []
    fresh = NEW_CLASSES[name]().check({}, news)
    assert checked.inputs == fresh.inputs  # the same check as a provider the new layout pickles
    same = provider.diff("1", {**checked.inputs, "__provider": LAYOUT_1[name]}, checked.inputs)
    assert same.changes is False
    changed = provider.diff("1", checked.inputs, dict(provider.check({}, {**news, key: other}).inputs))
    assert changed.changes is True
    assert changed.replaces == ([key] if key != "speed" else [])


@pytest.mark.usefixtures("healthy_world")  # Harbor checks the upstream live on every registry write
def test_old_strings_run_a_whole_lifecycle(harbor: dict[str, Any], double: HarborDouble) -> None:
    """Refresh and delete of objects made by old-layout providers, through the providers those strings load."""
    registry_p, project_p, policy_p = (_load(LAYOUT_1[n]) for n in NEW_CLASSES)
    reg_in = dict(registry_p.check({}, _sample("RegistryProvider", harbor)[0]).inputs)
    reg = registry_p.create(reg_in)
    proj = project_p.create(dict(project_p.check({}, {"harbor": harbor, "name": "mif-replica"}).inputs))
    pol_in = dict(policy_p.check({}, {**_sample("ReplicationPolicyProvider", harbor)[0],
                                      "registry_id": reg.outs["registry_id"]}).inputs)
    pol = policy_p.create(pol_in)
    assert registry_p.read(reg.id, reg.outs).inputs == reg_in
    assert policy_p.read(pol.id, pol.outs).inputs == pol_in
    policy_p.delete(pol.id, pol.outs)
    project_p.delete(proj.id, proj.outs)
    registry_p.delete(reg.id, reg.outs)
    assert double.state["registries"] == {} and double.state["projects"] == {} and double.state["policies"] == {}


# --- through the SDK's own provider process (python -m pulumi.dynamic), as the engine drives it -------------


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(values)
    return out


@pytest.fixture
def dynamic_provider() -> Iterator[Any]:
    """A ``python -m pulumi.dynamic`` process on 127.0.0.1, configured with the stack's admin password."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PULUMI_PROJECT": "harbor-cache"}
    process = subprocess.Popen([sys.executable, "-m", "pulumi.dynamic"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Configure(proto.ConfigureRequest(args=_struct(STACK_CONFIG)), timeout=30)
            yield stub
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.usefixtures("healthy_world")
def test_engine_path_refreshes_and_deletes_with_an_old_string(
    dynamic_provider: Any, harbor: dict[str, Any], double: HarborDouble
) -> None:
    old = LAYOUT_1["RegistryProvider"]
    urn = "urn:pulumi:dev::harbor-cache::pulumi-python:dynamic/harbor:Registry::up-registry"
    news = {**_sample("RegistryProvider", harbor)[0], "__provider": old}
    checked = dynamic_provider.Check(proto.CheckRequest(urn=urn, olds=_struct({}), news=_struct(news)), timeout=30)
    assert list(checked.failures) == []
    inputs = checked.inputs
    created = dynamic_provider.Create(proto.CreateRequest(urn=urn, properties=inputs), timeout=30)
    outs = rpc.deserialize_properties(created.properties)
    assert outs["__provider"] == old and outs["registry_id"] == int(created.id)
    diff = dynamic_provider.Diff(proto.DiffRequest(id=created.id, urn=urn, olds=created.properties, news=inputs),
                                 timeout=30)
    assert diff.changes == proto.DiffResponse.DIFF_NONE
    read = dynamic_provider.Read(proto.ReadRequest(id=created.id, urn=urn, properties=created.properties),
                                 timeout=30)
    assert read.id == created.id and rpc.deserialize_properties(read.inputs)["name"] == "ecr"
    dynamic_provider.Delete(proto.DeleteRequest(id=created.id, urn=urn, properties=created.properties), timeout=30)
    assert double.state["registries"] == {}
