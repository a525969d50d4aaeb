"""HarborRelease component: Harbor's namespace, its pinned Secrets and the Harbor Helm release.

The chart values come from harbor_values.py (built from the settings in specs.py). The admin password and
Harbor's internal secrets live in Secrets the chart reads (`existingSecret*`). The internal ones are generated
once, when first created (pinned_secrets.py), and then left alone, so a re-run neither rotates them nor restarts
pods.

The internal database's password is the one secret the chart takes only as a value (`database.internal.password`),
so it goes into the release's values as a Pulumi secret (encrypted in state, shown as [secret]). The harbor-db
image sets the password only when it initialises an empty data directory, so a different password later would
lock Harbor out of its own database. Hence: generated once (PinnedSecretValues), and the release ignores later
changes to that value (should PinnedSecretValues ever be replaced, the release keeps the password the database
was made with). Stacks created before the password was generated have none: they pass an empty password, with
which the chart reads back the one in its own Secret (`<release>-database`), i.e. the database keeps its password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import pulumi

from components.harbor_values import ADMIN_KEY, PinnedSecretNames
from components.helm import ChartInstall, release
from components.kube_objects import Namespace, Secret
from components.pinned_secrets import ROLES, PinnedSecretValues

# The Release input that holds the internal database password (a property path for ignore_changes).
DATABASE_PASSWORD_PATH = "values.database.internal.password"  # noqa: S105 (a path, not a password)


@dataclass(frozen=True)
class HarborReleaseArgs:
    """Inputs of HarborRelease.

    chart: the Harbor release (its namespace is the one HarborRelease creates); secret_names: the Secrets the
    chart values point at; admin_password: Harbor's admin password (kept secret); after: resources the Helm
    release waits for (the Certificate whose Secret the chart mounts).
    """

    chart: ChartInstall
    secret_names: PinnedSecretNames
    admin_password: pulumi.Input[str]
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class HarborRelease(pulumi.ComponentResource):
    """Harbor in its namespace: the admin Secret, pinned internal Secrets and the Helm release."""

    namespace: pulumi.Output[str]
    release_status: pulumi.Output[str]

    def __init__(self, name: str, args: HarborReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:HarborRelease", name, {}, opts)
        namespace, names = args.chart.namespace, args.secret_names
        child = pulumi.ResourceOptions(parent=self)
        ns = Namespace(f"{name}-namespace", metadata={"name": namespace}, opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        admin = Secret(
            f"{name}-admin", metadata={"name": names.admin, "namespace": namespace},
            string_data={ADMIN_KEY: pulumi.Output.secret(args.admin_password)},
            opts=in_ns)
        generated = PinnedSecretValues(f"{name}-pinned-values", release=args.chart.release_name, opts=child)
        pinned: list[pulumi.Resource] = [admin]
        for role in ROLES:
            secret_name = getattr(names, role)
            data: pulumi.Output[Mapping[str, str]] = pulumi.Output.secret(
                generated.values.apply(partial(_role_data, role=role)))
            pinned.append(Secret(
                f"{name}-{secret_name}", metadata={"name": secret_name, "namespace": namespace},
                string_data=data,
                # Generated once; later runs keep what the cluster has instead of rotating it. The provider's check
                # turns stringData into data, so both are ignored (else every run replaces the Secret).
                opts=pulumi.ResourceOptions.merge(
                    in_ns, pulumi.ResourceOptions(ignore_changes=["stringData", "data"]))))
        chart, keep_password = _with_database_password(args.chart, generated.database_password)
        self.release = release(
            f"{name}-release", chart,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[ns, *pinned, *args.after], ignore_changes=keep_password)))
        self.namespace = ns.metadata.apply(lambda m: m["name"])
        self.release_status = self.release.status.apply(lambda s: s["status"])
        self.register_outputs({"namespace": self.namespace, "release_status": self.release_status})


def _role_data(values: Mapping[str, Mapping[str, str]], role: str) -> Mapping[str, str]:
    return values[role]


def _with_database_password(chart: ChartInstall, password: pulumi.Output[str | None]) -> tuple[ChartInstall, list[str]]:
    """The chart with the internal database's generated password as a secret value, and the ignore_changes
    entry that keeps the first one; unchanged when the database is external."""
    database = dict(chart.values.get("database") or {})
    if database.get("type", "internal") != "internal":
        return chart, []
    database["internal"] = {**(database.get("internal") or {}),
                            "password": pulumi.Output.secret(password.apply(_password_or_chart_secret))}
    return replace(chart, values={**chart.values, "database": database}), [DATABASE_PASSWORD_PATH]


def _password_or_chart_secret(password: str | None) -> str:
    """The generated password; for a stack from before it was generated, "" (the chart then keeps the password in
    its own Secret, which the database was initialised with), with a warning that it is still the chart's."""
    if password:
        return password
    pulumi.log.warn(
        "Harbor's internal database keeps the password it was created with (for stacks deployed before the "
        "program generated one, the chart's default): see README, 'The internal database password', to change it.")
    return ""
