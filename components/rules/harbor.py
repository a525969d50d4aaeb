"""Harbor's own rules: project, registry and user names, the ECR endpoint, the replication cron, passwords, quotas.

Each is read from Harbor v2.14.2's source (path in the comment) so the settings refuse what Harbor would refuse.
"""

from __future__ import annotations

import re
from typing import Final

from components.rules.registries import CHART_PROXY_CACHE_TYPES

# Harbor's project name rule (src/pkg/project/manager.go): lowercase letters and digits, separated by single
# . _ or -, 1-255 characters.
PROJECT_NAME_RE: Final = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
PROJECT_NAME_MAX: Final = 255
PROJECT_NAME_HINT: Final = ("lowercase letters, digits and . _ - (not first or last, not doubled), "
                            "1-255 characters, e.g. 'mif'")

RegistryType = str
# The types the program creates registries of: those the chart permits for a proxy cache (registries.py, which
# also says how a stack's own chart is read); all of them are replication sources too.
REGISTRY_TYPES: Final[tuple[RegistryType, ...]] = tuple(sorted(CHART_PROXY_CACHE_TYPES))
REGISTRY_NAME_MAX: Final = 64  # Harbor's limit for registry names (controller/registry: "the max length of name is 64")
POLICY_NAME_MAX: Final = 256  # replication_policy.name is varchar(256)

# Harbor v2.14's ECR endpoint pattern (src/pkg/reg/adapter/awsecr/adapter.go), anchored: the whole URL must
# match. No `ecr-public`: Harbor's pattern has it only from v2.15.2 on, and v2.14 answers 500 "bad aws url".
ECR_URL_RE: Final = re.compile(
    r"^https://(?:api|(\d+)\.dkr)\.ecr(?:-fips)?\.([\w\-]+)\."
    r"(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)/?$"
)
ECR_URL_HINT: Final = "https://<account>.dkr.ecr.<region>.amazonaws.com"

# The largest storage quota Harbor takes (lib.ValidateQuotaLimit): 1024 TB in bytes; -1 is "no limit".
STORAGE_LIMIT_MAX: Final = 1024**5


def project_name_problem(name: str) -> str | None:
    """Why `name` is not a valid Harbor project name, or None."""
    if not (1 <= len(name) <= PROJECT_NAME_MAX and PROJECT_NAME_RE.match(name)):
        return f"{name!r} is not a valid Harbor project name: {PROJECT_NAME_HINT}"
    return None


def registry_name_problem(name: str) -> str | None:
    """Why `name` is not a registry name Harbor accepts (1-64 characters), or None."""
    if not 1 <= len(name) <= REGISTRY_NAME_MAX:
        return f"must be 1 to {REGISTRY_NAME_MAX} characters (Harbor's limit for registry names), got {len(name)}"
    return None


def is_ecr_url(url: str) -> bool:
    """Whether `url` is an Amazon ECR registry endpoint as Harbor's ECR adapter accepts it."""
    return ECR_URL_RE.match(url) is not None


def storage_limit_problem(value: int) -> str | None:
    """Why `value` is not a project storage limit Harbor takes (-1, or 1 byte to 1024 TB), or None.

    Harbor refuses 0 and other negatives ("invalid non-positive value for quota limit"; a create that sends 0
    gets the system default instead), and more than 1024 TB.
    """
    if value == -1 or 0 < value <= STORAGE_LIMIT_MAX:
        return None
    if value > STORAGE_LIMIT_MAX:
        return f"{value} is more than 1024 TB ({STORAGE_LIMIT_MAX} bytes), Harbor's largest quota"
    return (f"{value} is not a quota Harbor takes: use -1 for no limit, or a size in bytes such as 107374182400 "
            "(100 GiB)")


def proxy_speed_problem(value: int) -> str | None:
    """Why `value` is not a proxy-cache bandwidth limit Harbor takes (-1 for none, or KB/s >= 1), or None."""
    if value == -1 or value > 0:
        return None
    return f"{value} is not a bandwidth limit: use -1 for none, or a speed in KB/s such as 10240"


# --- passwords and users (server/v2.0/handler/user.go) ------------------------------------------------------

PASSWORD_HINT: Final = (
    "8 to 128 characters with at least one uppercase letter, one lowercase letter and one digit"  # noqa: S105
)


def harbor_password_problem(password: str) -> str | None:
    """Why `password` breaks Harbor's password rule (requireValidSecret), or None. Never repeats the password.

    Harbor's rule: 8-128 bytes (Go's len), at least one of [a-z], [A-Z] and [0-9]. Harbor applies it to every
    password set through its API or portal; the first admin password (HARBOR_ADMIN_PASSWORD) is taken unchecked,
    so a password that breaks the rule could never be set again.
    """
    size = len(password.encode())
    missing = [what for what, pattern in (("an uppercase letter", "[A-Z]"), ("a lowercase letter", "[a-z]"),
                                          ("a digit", "[0-9]")) if not re.search(pattern, password)]
    if 8 <= size <= 128 and not missing:
        return None
    found = f"it has {size} characters" + (f" and no {', no '.join(m.split(' ', 1)[1] for m in missing)}"
                                          if missing else "")
    return f"breaks Harbor's password rule ({PASSWORD_HINT}): {found}"


def harbor_username_problem(name: str) -> str | None:
    """Why `name` cannot log in to Harbor's API with HTTP basic auth (a user, or a robot account such as
    `robot$cache`), or None: 1-255 characters, no ':' (basic auth splits user and password there), no spaces."""
    if not 1 <= len(name) <= 255:
        return "must be 1 to 255 characters (Harbor's user name rule)"
    if ":" in name or any(c.isspace() for c in name):
        return f"{name!r} has ':' or a space, which HTTP basic auth cannot carry in a user name"
    return None


# --- upstream credentials (Amazon IAM) ----------------------------------------------------------------------

AWS_ACCESS_KEY_ID_RE: Final = re.compile(r"^[A-Za-z0-9_]{16,128}$")  # IAM AccessKeyId: \w, 16-128 characters
AWS_SECRET_KEY_RE: Final = re.compile(r"^[A-Za-z0-9/+=]{40}$")  # what IAM issues: 40 base64 characters


def aws_access_key_id_problem(value: str) -> str | None:
    """Why `value` is not an AWS access key id (16-128 letters, digits or _; e.g. AKIA... from IAM), or None."""
    if AWS_ACCESS_KEY_ID_RE.match(value) is None:
        return (f"{value!r} is not an AWS access key id: 16 to 128 letters and digits, such as "
                "AKIAIOSFODNN7EXAMPLE (no spaces or quotes)")
    return None


def aws_secret_key_warning(value: str) -> str | None:
    """A note when `value` does not look like what IAM issues (40 base64 characters), or None; never the value.

    Only AWS can say whether a key is valid, so this is a warning, not an error.
    """
    if AWS_SECRET_KEY_RE.match(value) is None:
        return (f"does not look like an AWS secret access key (IAM issues 40 characters of A-Z a-z 0-9 / + =; "
                f"this one has {len(value)} characters): check for a stray space, quote or newline")
    return None


# --- replication cron (Harbor's 6-field cron with seconds) ---------------------------------------------------

CRON_EXAMPLE: Final = "0 0 */6 * * *"
_CRON_RANGES: Final = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES: Final[tuple[dict[str, int], ...]] = (
    {},
    {},
    {},
    {},
    {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
    {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())},
)


def _cron_value(text: str, idx: int) -> int:
    value = _CRON_NAMES[idx].get(text.upper()) if not text.isdigit() else int(text)
    low, high = _CRON_RANGES[idx]
    if value is None or not low <= value <= high:
        raise ValueError(f"{text!r} is outside {low}-{high}")
    return value


def cron_problem(cron: str) -> str | None:
    """Why `cron` is not a replication cron Harbor accepts, or None.

    Harbor's rule: 6 space-separated fields (sec min hour dom month dow), each value in its range (month and
    weekday names allowed, `?` for day of month or week), seconds `0` and minutes not `*`.
    """
    parts = cron.split(" ")
    if len(parts) != 6:
        return f"must have 6 space-separated fields (sec min hour dom month dow), got {len(parts)}"
    for idx, field in enumerate(parts):
        if field == "?" and idx in (3, 5):
            continue
        for item in field.split(","):
            base, _, step = item.partition("/")
            try:
                if step and (not step.isdigit() or int(step) == 0):
                    raise ValueError(f"bad step {step!r}")
                if base != "*":
                    for bound in base.split("-", 1):
                        _cron_value(bound, idx)
            except ValueError as exc:
                return f"field {idx + 1} ({field!r}): {exc}"
    if parts[0] != "0":
        return "the 1st field (seconds) must be 0"
    if parts[1] == "*":
        return "the 2nd field (minutes) must not be *"
    return None
