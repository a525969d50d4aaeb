# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item,union-attr"
"""Issue 13: the providers against Harbor's real semantics (the strict double), one section per failure.

1 ambient credentials (IRSA); 2 the live upstream check on every registry write; 3 validation before the call and
a re-read after a 500; 4 every create safe to retry (lost responses); 5 name lookups; 6 401; 7 jobservice down;
8 the smaller ones (storage limit, no quota, retention priority, dest_registry 0, 412 disabled, 404 registry).
Controls: lab/harbor_double/faults.py and settings.py (docs/harbor-double.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from components import rules
from components.harbor_api import registry as registry_module
from components.harbor_api import replication as replication_module
from components.harbor_api.client import HarborClient
from components.harbor_api.errors import (
    HarborApiError,
    HarborError,
    HarborPreconditionFailedError,
    HarborTimeoutError,
    HarborUnauthorizedError,
    HarborUnconfirmedWriteError,
)
from components.harbor_api.project import STORAGE_LIMIT_MAX, ProjectProvider
from components.harbor_api.registry import HARBOR_ADAPTER_TYPES, PROXY_CACHE_TYPES, RegistryProvider
from components.harbor_api.replication import ReplicationPolicyProvider
from components.harbor_api.retention import ProjectRetentionProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, configured
from tests.provider.worlds import fake_upstream, healthy_world  # noqa: F401 (fixtures)

CHART_CORE = Path(__file__).resolve().parents[3] / "shared" / "charts" / "harbor-1.18.2" / "templates" / "core"

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.fixture
def registries() -> RegistryProvider:
    return configured(RegistryProvider)


@pytest.fixture
def projects() -> ProjectProvider:
    return configured(ProjectProvider)


@pytest.fixture
def policies() -> ReplicationPolicyProvider:
    return configured(ReplicationPolicyProvider)


@pytest.fixture
def retentions() -> ProjectRetentionProvider:
    return configured(ProjectRetentionProvider)


def _checked(provider: Any, harbor: dict[str, Any], **news: Any) -> dict[str, Any]:
    result = provider.check({}, {"harbor": harbor, **news})
    assert result.failures == [], [f.reason for f in result.failures]
    return dict(result.inputs)


def _ecr(provider: RegistryProvider, harbor: dict[str, Any], **over: Any) -> dict[str, Any]:
    news = {"name": "ecr", "url": ECR_URL, "access_key_id": "AKIA1", "access_secret": "secret-1", **over}
    return _checked(provider, harbor, **news)


def _reasons(result: Any) -> dict[str, str]:
    return {f.property: f.reason for f in result.failures}


def _posts(double: HarborDouble, path: str) -> int:
    return double.count("POST", path)


# ------------------------------------------------------------------ 1. ambient credentials (IRSA)


def test_ambient_credentials_send_an_empty_basic_credential(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    """Harbor's ECR adapter dereferences the credential: without one the create is a 500 (the double's crash)."""
    props = _ecr(registries, harbor, access_key_id="", access_secret="", ambient_credentials=True)
    created = registries.create(props)
    stored = double.state["registries"][int(created.id)]
    assert stored["credential"] == {"type": "basic", "access_key": "", "access_secret": ""}
    assert _posts(double, "/registries") == 1
    assert registries.diff(created.id, created.outs, props).changes is False


def test_ambient_credentials_check(registries: RegistryProvider, harbor: dict[str, Any]) -> None:
    keys_too = _reasons(registries.check({}, {"harbor": harbor, "name": "e", "url": ECR_URL,
                                              "access_key_id": "AK", "ambient_credentials": True}))
    assert keys_too == {"access_key_id": "harbor-cache:upstream.accessKeyId: must be empty with "
                        "harbor-cache:upstream.ambientCredentials: true (IRSA)"}
    plain = _reasons(registries.check({}, {"harbor": harbor, "name": "e", "type": "docker-registry",
                                           "url": "https://r.example.com", "ambient_credentials": True}))
    assert plain["ambient_credentials"].startswith("harbor-cache:upstream.ambientCredentials: applies only to")
    nothing = _reasons(registries.check({}, {"harbor": harbor, "name": "e", "url": ECR_URL}))
    assert "harbor-cache:upstream.ambientCredentials: true" in nothing["access_key_id"]


def test_state_without_the_new_input_shows_no_change(registries: RegistryProvider, harbor: dict[str, Any]) -> None:
    """A registry created before ambient_credentials existed diffs clean (the missing input is its default)."""
    props = _ecr(registries, harbor)
    old_state = {k: v for k, v in props.items() if k != "ambient_credentials"}
    assert registries.diff("1", old_state, props).changes is False


# ------------------------------------------------------------------ 2. the live upstream check


def test_unhealthy_because_harbor_core_cannot_reach_the_upstream(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    """The diagnostic ping (plain registry, no keys) fails too: the message says unreachable, and what to check."""
    double.set_settings(upstream_map={})  # AWS answers, the ECR host does not
    with pytest.raises(HarborApiError) as err:
        registries.create(_ecr(registries, harbor))
    text = str(err.value)
    assert "HTTP 400 BAD_REQUEST: the registry is unhealthy" in text and "request id" in text
    assert f"Harbor core cannot reach {ECR_URL}" in text and "harbor-cache:harbor.proxy.*" in text
    assert "accessKeyId" not in text
    assert _posts(double, "/registries") == 1 and double.state["registries"] == {}


def test_unhealthy_because_the_keys_are_refused(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.set_settings(aws_rejects_keys=True)
    with pytest.raises(HarborApiError) as err:
        registries.create(_ecr(registries, harbor))
    text = str(err.value)
    assert f"{ECR_URL}/v2/ answers Harbor core" in text
    assert "harbor-cache:upstream.accessKeyId" in text and "harbor-cache:upstreamSecretKey" in text
    assert _posts(double, "/registries") == 1


def test_unhealthy_with_ambient_credentials_names_the_irsa_role(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.set_settings(aws_reachable=False)  # no AWS identity reaches AWS; the ECR host answers
    props = _ecr(registries, harbor, access_key_id="", access_secret="", ambient_credentials=True)
    with pytest.raises(HarborApiError) as err:
        registries.create(props)
    text = str(err.value)
    assert "IRSA role" in text and "eks.amazonaws.com/role-arn" in text and "api.ecr.ap-northeast-2" in text


def test_a_write_that_outlasts_the_timeout_says_why_and_the_next_up_converges(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry_module, "REGISTRY_WRITE_TIMEOUT", 0.5)
    double.set_settings(health_check_delay=1.0)
    props = _ecr(registries, {**harbor, "timeout": 0.3})
    with pytest.raises(HarborUnconfirmedWriteError) as err:
        registries.create(props)
    text = str(err.value)
    assert "did not answer within 0.5s" in text and "nothing was created" in text
    assert "checks the upstream live on every registry write" in text and "harbor-cache:harbor.proxy.*" in text
    assert _posts(double, "/registries") == 1  # a timed-out POST is looked up, never repeated
    time.sleep(1.0)  # Harbor finishes its check and creates the registry after all
    double.set_settings(health_check_delay=0.0)  # the network is back
    again = registries.create(props)
    assert list(double.state["registries"]) == [int(again.id)] and _posts(double, "/registries") == 1


def test_an_update_that_times_out_is_not_repeated(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    props = _ecr(registries, {**harbor, "timeout": 0.3})
    created = registries.create(props)
    monkeypatch.setattr(registry_module, "REGISTRY_WRITE_TIMEOUT", 0.5)
    double.set_settings(health_check_delay=1.0)
    with pytest.raises(HarborTimeoutError, match=r"did not answer within 0.5s.*checks the upstream live"):
        registries.update(created.id, created.outs, {**props, "description": "new"})
    assert double.count("PUT", "/registries/{id}") == 1


def test_no_change_means_no_write(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    """Every registry write makes Harbor check the upstream: nothing changed, nothing written."""
    props = _ecr(registries, harbor)
    created = registries.create(props)
    assert registries.diff(created.id, created.outs, props).changes is False  # the engine calls no update
    moved = {**props, "harbor": {**harbor, "timeout": 9.0}}  # only how we reach Harbor changed
    assert registries.diff(created.id, created.outs, moved).changes is True
    registries.update(created.id, created.outs, moved)
    read = registries.read(created.id, created.outs)
    assert registries.diff(created.id, read.outs, props).changes is False
    assert double.count("PUT", "/registries/{id}") == 0
    registries.update(created.id, created.outs, {**props, "access_secret": "rotated"})
    registries.update(created.id, created.outs, {**props, "description": "d"})
    assert double.count("PUT", "/registries/{id}") == 2


# ------------------------------------------------------------------ 3. validate first; re-read after a 500


def test_registry_types_are_known_to_harbor_and_permitted_for_proxy_cache() -> None:
    assert set(rules.REGISTRY_TYPES) <= HARBOR_ADAPTER_TYPES & PROXY_CACHE_TYPES


@pytest.mark.skipif(not CHART_CORE.exists(), reason="the pinned chart is not beside the repository")
def test_proxy_cache_types_are_the_pinned_charts() -> None:
    text = "".join(p.read_text() for p in CHART_CORE.glob("*.yaml"))
    line = next(x for x in text.splitlines() if "PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE" in x)
    assert set(line.split(":", 1)[1].strip().strip('"').split(",")) == PROXY_CACHE_TYPES


def test_ecr_public_is_rejected_before_the_call(registries: RegistryProvider, harbor: dict[str, Any]) -> None:
    url = "https://123456789012.dkr.ecr-public.us-east-1.amazonaws.com"
    reasons = _reasons(registries.check({}, {"harbor": harbor, "name": "e", "url": url, "access_key_id": "A"}))
    assert reasons["url"].startswith("harbor-cache:upstream.url: ") and "not an Amazon ECR endpoint" in reasons["url"]


def test_project_on_a_missing_registry_fails_before_the_post(
    projects: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    with pytest.raises(HarborError, match=r"its registry \(id 9999\) does not exist in Harbor.*pulumi refresh"):
        projects.create(_checked(projects, harbor, name="mif", registry_id=9999))
    assert _posts(double, "/projects") == 0


def test_project_on_a_registry_type_not_permitted_fails_before_the_post(
    projects: ProjectProvider, harbor: dict[str, Any], client: HarborClient, double: HarborDouble,
) -> None:
    body = {"name": "q", "type": "quay", "url": "http://127.0.0.1:5000", "insecure": True, "description": ""}
    rid = client.create("/registries", body, "create registry 'q'")
    with pytest.raises(HarborError, match=r"type 'quay'.*harbor-cache:upstream.type"):
        projects.create(_checked(projects, harbor, name="mif", registry_id=rid))
    assert _posts(double, "/projects") == 0


def test_a_500_on_create_is_looked_up_not_repeated(
    projects: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.set_faults(fail_next=1, fail_status=500, fail_match="POST /projects")
    with pytest.raises(HarborApiError) as err:
        projects.create(_checked(projects, harbor, name="plain"))
    text = str(err.value)
    assert "HTTP 500 UNKNOWN: internal server error" in text and "request id" in text
    assert "nothing was created, so the request was not sent again" in text and "harbor-core's log" in text
    assert _posts(double, "/projects") == 1
    assert projects.create(_checked(projects, harbor, name="plain")).outs["adopted"] is False  # next up


# ------------------------------------------------------------------ 4. every create safe to retry


@pytest.fixture
def registry_id(registries: RegistryProvider, harbor: dict[str, Any]) -> int:
    return int(registries.create(_ecr(registries, harbor)).id)


def test_lost_registry_create_converges_to_one(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.lose_response("POST /registries")
    created = registries.create(_ecr(registries, harbor))
    assert list(double.state["registries"]) == [int(created.id)] and created.outs["adopted"] is False
    assert _posts(double, "/registries") == 1


def test_lost_project_create_converges_to_one(
    projects: ProjectProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int
) -> None:
    double.lose_response("POST /projects")
    created = projects.create(_checked(projects, harbor, name="mif", registry_id=registry_id))
    assert [p["name"] for p in double.state["projects"].values()] == ["mif"]
    assert _posts(double, "/projects") == 1 and double.state["projects"][int(created.id)]["metadata"]["retention_id"]


def test_lost_retention_create_reads_the_retention_id_instead_of_posting_again(
    projects: ProjectProvider, retentions: ProjectRetentionProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    project = projects.create(_checked(projects, harbor, name="plain"))
    double.lose_response("POST /retentions")
    created = retentions.create(
        _checked(retentions, harbor, project_id=int(project.id), project_name="plain", days=3))
    assert len(double.state["retentions"]) == 1 and _posts(double, "/retentions") == 1
    live = double.state["projects"][int(project.id)]
    assert int(live["metadata"]["retention_id"]) == created.outs["retention_id"]
    assert created.outs["adopted"] is False


def test_lost_policy_create_converges_to_one(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int,
    client: HarborClient,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    double.lose_response("POST /replication/policies")
    policies.create(_checked(policies, harbor, name="pull", registry_id=registry_id, dest_namespace="mif-replica"))
    assert len(double.state["policies"]) == 1 and _posts(double, "/replication/policies") == 1


def test_lost_execution_start_adopts_the_run_instead_of_starting_a_second(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int,
    client: HarborClient,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    double.lose_response("POST /replication/executions")
    created = policies.create(_checked(policies, harbor, name="pull", registry_id=registry_id,
                                       dest_namespace="mif-replica", run_on_change=True, run_timeout=5.0))
    (execution,) = double.state["executions"].values()
    assert created.outs["last_execution_id"] == execution["id"]
    assert created.outs["last_execution_status"] == "Succeed"
    assert _posts(double, "/replication/executions") == 1


def test_a_503_on_post_is_looked_up_before_it_is_sent_again(
    registries: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.set_faults(fail_next=1, fail_status=503, fail_match="POST /registries")
    registries.create(_ecr(registries, harbor))
    calls = [(r["method"], r["path"]) for r in double.requests if r["path"] == "/registries"]
    assert calls == [("GET", "/registries"), ("POST", "/registries"), ("GET", "/registries"), ("POST", "/registries")]
    assert len(double.state["registries"]) == 1


# ------------------------------------------------------------------ 5. name lookups


def test_all_digit_names_are_adopted(
    registries: RegistryProvider, policies: ReplicationPolicyProvider, harbor: dict[str, Any],
    double: HarborDouble, client: HarborClient,
) -> None:
    first = registries.create(_ecr(registries, harbor, name="123"))
    again = registries.create(_ecr(registries, harbor, name="123"))
    assert again.id == first.id and again.outs["adopted"] is True and _posts(double, "/registries") == 1
    client.create("/projects", {"project_name": "789", "metadata": {"public": "true"}}, "create project")
    news = _checked(policies, harbor, name="456", registry_id=int(first.id), dest_namespace="789")
    assert policies.create(news).id == policies.create(news).id
    assert _posts(double, "/replication/policies") == 1


# ------------------------------------------------------------------ 6. 401


def test_wrong_admin_password_fails_once_naming_the_setting(harbor: dict[str, Any], double: HarborDouble) -> None:
    provider = configured(RegistryProvider, password="not-the-password")
    with pytest.raises(HarborUnauthorizedError) as err:
        provider.create(_ecr(provider, harbor))
    text = str(err.value)
    assert "HTTP 401 UNAUTHORIZED: unauthorized" in text and "request id" in text
    assert "pulumi config set --secret harbor-cache:adminPassword" in text and "not-the-password" not in text
    assert sum(double.counts.values()) == 1 and _posts(double, "/registries") == 0


# ------------------------------------------------------------------ 7. jobservice down


def test_jobservice_down_on_proxy_project_create_says_so(
    projects: ProjectProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int
) -> None:
    double.set_faults(jobservice_down=True)
    props = _checked(projects, harbor, name="mif", registry_id=registry_id)
    with pytest.raises(HarborApiError, match=r"HTTP 500.*Harbor's job service is down.*harbor-jobservice pod"):
        projects.create(props)
    assert _posts(double, "/projects") == 1 and double.state["projects"] == {}
    double.set_faults(jobservice_down=False)
    assert projects.create(props).outs["adopted"] is False  # the next up converges


def test_jobservice_down_on_scheduled_policy_create_says_so(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int,
    client: HarborClient,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    double.set_faults(jobservice_down=True)
    news = _checked(policies, harbor, name="pull", registry_id=registry_id, dest_namespace="mif-replica",
                    trigger="scheduled", cron="0 0 3 * * *")
    with pytest.raises(HarborApiError, match=r"Harbor's job service is down.*harbor-jobservice pod"):
        policies.create(news)
    assert _posts(double, "/replication/policies") == 1 and double.state["policies"] == {}


# ------------------------------------------------------------------ 8. the smaller ones


def test_storage_limit_above_1024_tb_is_rejected_before_the_call(
    projects: ProjectProvider, harbor: dict[str, Any]
) -> None:
    reasons = _reasons(projects.check({}, {"harbor": harbor, "name": "mif", "registry_id": 1,
                                           "storage_limit": STORAGE_LIMIT_MAX + 1}))
    assert reasons["storage_limit"].startswith("harbor-cache:proxyProject.storageLimitBytes: must be <= ")
    assert "1024 TB" in reasons["storage_limit"]
    assert projects.check({}, {"harbor": harbor, "name": "m", "storage_limit": STORAGE_LIMIT_MAX}).failures == []


def test_no_quota_is_reported_not_an_error(
    projects: ProjectProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int
) -> None:
    double.set_settings(quota_per_project_enable=False)
    props = _checked(projects, harbor, name="mif", registry_id=registry_id, storage_limit=10**9)
    created = projects.create(props)
    assert created.outs["quota_enforced"] is False
    (warning,) = created.outs["warnings"]
    assert "quota_per_project_enable" in warning and "harbor-cache:proxyProject.storageLimitBytes" in warning
    read = projects.read(created.id, created.outs)
    assert read.outs["quota_enforced"] is False and projects.diff(created.id, read.outs, props).changes is False
    projects.update(created.id, read.outs, {**props, "storage_limit": 2 * 10**9})
    assert double.count("PUT", "/quotas/{id}") == 0
    unlimited = projects.create(_checked(projects, harbor, name="plain"))
    assert unlimited.outs["warnings"] == []  # nothing to enforce, nothing to say


def test_harbors_automatic_retention_rule_is_adopted(
    projects: ProjectProvider, retentions: ProjectRetentionProvider, harbor: dict[str, Any], double: HarborDouble,
    registry_id: int,
) -> None:
    project = projects.create(_checked(projects, harbor, name="mif", registry_id=registry_id))
    props = _checked(retentions, harbor, project_id=int(project.id), project_name="mif", days=7)
    created = retentions.create(props)
    assert double.count("PUT", "/retentions/{id}") == 0  # 7 days is Harbor's own rule: nothing to write
    assert created.outs["adopted"] is True and double.count("POST", "/retentions") == 0
    (rule,) = double.state["retentions"][created.outs["retention_id"]]["rules"]
    retentions.update(created.id, created.outs, {**props, "days": 30})
    (after,) = double.state["retentions"][created.outs["retention_id"]]["rules"]
    assert (after["id"], after["priority"]) == (rule["id"], rule["priority"]) == (rule["id"], 1)
    assert after["params"]["nDaysSinceLastPull"] == 30


def test_local_dest_registry_id_0_is_not_drift(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, client: HarborClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    props = _checked(policies, harbor, name="pull", registry_id=registry_id, dest_namespace="mif-replica")
    created = policies.create(props)
    real = HarborClient.get

    def as_harbor(self: HarborClient, path: str, operation: str, **kw: Any) -> Any:
        found = real(self, path, operation, **kw)
        if path.startswith("/replication/policies/") and isinstance(found, dict):
            found["dest_registry"] = {"id": 0, "name": "Local", "type": "harbor", "url": "http://harbor-core"}
        return found

    monkeypatch.setattr(HarborClient, "get", as_harbor)
    read = policies.read(created.id, created.outs)
    assert read.inputs == props and policies.diff(created.id, read.outs, props).changes is False


def test_running_a_disabled_policy_says_it_is_disabled(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int,
    client: HarborClient,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    props = _checked(policies, harbor, name="pull", registry_id=registry_id, dest_namespace="mif-replica",
                     enabled=False, run_timeout=2.0)
    created = policies.create(props)
    with pytest.raises(HarborPreconditionFailedError, match=r"HTTP 412.*disabled in Harbor"):
        replication_module._run_policy(client, int(created.id), props)
    assert double.state["executions"] == {}


def test_a_policy_naming_a_missing_registry_says_which(
    policies: ReplicationPolicyProvider, harbor: dict[str, Any], double: HarborDouble, registry_id: int,
    client: HarborClient,
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    with pytest.raises(HarborError, match=r"source registry \(id 9999, input registry_id\) does not exist"):
        policies.create(_checked(policies, harbor, name="p", registry_id=9999, dest_namespace="mif-replica"))
    assert _posts(double, "/replication/policies") == 0
    props = _checked(policies, harbor, name="pull", registry_id=registry_id, dest_namespace="mif-replica")
    created = policies.create(props)
    del double.state["registries"][registry_id]  # deleted out of band
    with pytest.raises(HarborApiError, match=rf"HTTP 404.*source registry \(id {registry_id}, input registry_id\)"):
        policies.update(created.id, created.outs, {**props, "description": "x"})
