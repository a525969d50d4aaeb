"""Certificates: Go durations as cert-manager reads them, cert-manager's lifetime rules, PEM CA bundles."""

from __future__ import annotations

import re
import ssl
from typing import Final

_GO_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_PART: Final = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")

# cert-manager's Certificate validation (internal/apis/certmanager/validation, ValidateDuration).
MIN_CERT_SECONDS: Final = 3600  # duration: at least 1h
MIN_RENEW_BEFORE_SECONDS: Final = 300  # renewBefore: at least 5m


def go_duration_seconds(text: str) -> float | None:
    """Seconds of a Go duration (time.ParseDuration: `2160h`, `1h30m`, `1.5h`, `-5m`, `0`), or None if not one."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total, pos = 0.0, 0
    while pos < len(body):
        match = _GO_PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def duration_problem(value: str) -> str | None:
    """Why `value` is not a Go duration cert-manager reads (`2160h`, `720h30m`; no days), or None."""
    seconds = go_duration_seconds(value)
    if seconds is None:
        hint = ""
        if re.match(r"^[0-9]+d$", value):
            hint = f": Go durations have no days, {value} is {int(value[:-1]) * 24}h"
        elif value.isdigit():
            hint = f": give a unit, e.g. {value}h"
        return f"{value!r} is not a Go duration such as 2160h or 720h30m{hint}"
    if seconds < 0:
        return f"{value!r} is negative: a certificate lifetime is a positive duration such as 2160h"
    return None


def _fmt(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return (f"{hours}h" if hours else "") + (f"{rest // 60}m" if rest >= 60 or not hours else "")


def lifetime_problems(duration: str, renew_before: str) -> list[tuple[str, str]]:
    """cert-manager's rules for one Certificate's `duration` and `renewBefore`: (which, problem) pairs.

    `which` is "duration" or "renewBefore". Both must already be Go durations (see duration_problem).
    cert-manager refuses a duration under 1h, a renewBefore under 5m, and a renewBefore not shorter than the
    duration; the Certificate then never becomes Ready and `pulumi up` waits until it times out.
    """
    total, renew = go_duration_seconds(duration), go_duration_seconds(renew_before)
    if total is None or renew is None:
        return []
    problems = []
    if total < MIN_CERT_SECONDS:
        problems.append(("duration", f"{duration} is shorter than cert-manager's minimum certificate duration, 1h"))
    if renew < MIN_RENEW_BEFORE_SECONDS:
        problems.append(("renewBefore", f"{renew_before} is shorter than cert-manager's minimum renewBefore, 5m"))
    if renew >= total:
        problems.append(("renewBefore", f"{renew_before} is not shorter than the duration {duration}: cert-manager "
                                        f"refuses it (renew some time before expiry, e.g. {_fmt(total / 3)})"))
    return problems


def pem_certificates_problem(pem: str) -> str | None:
    """Why `pem` is not a bundle of PEM CA certificates that OpenSSL loads (what the API client and containerd
    trust), or None."""
    if "-----BEGIN CERTIFICATE-----" not in pem:
        return "is not a PEM certificate: paste the CA as -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----"
    if "PRIVATE KEY-----" in pem:
        return "holds a private key: give only the CA certificate (never a key)"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError) as exc:
        return f"is not a certificate OpenSSL can read ({exc.__class__.__name__}: {exc}); check that it is complete"
    return None
