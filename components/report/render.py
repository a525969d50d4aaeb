"""The report as text for people (the JSON form is the data itself)."""

from __future__ import annotations

from typing import Any


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def render_text(report: dict[str, Any]) -> str:
    """One block per upstream: what it caches, how much, and what is pulled most."""
    lines = [f"harbor-cache report for stack {report['stack']} ({report['harbor']}), {report['generated_at']}"]
    for up in report["upstreams"]:
        storage = up["storage"]
        limit = storage["limit_bytes"]
        used = human_bytes(storage["used_bytes"])
        share = f"{used} of {human_bytes(limit)} ({100 * storage['used_bytes'] / limit:.1f}%)" if limit else \
            f"{used} (no limit)"
        registry = up["registry"]
        source = f"{registry['type']} {registry['url']}" if registry else "no registry (not a proxy cache)"
        lines += ["", f"project {up['project']}: {', '.join(up['hosts']) or '-'} <- {source}",
                  f"  repositories {up['repositories']}, artifacts {up['artifacts']}, pulls {up['pulls']}",
                  f"  storage {share} ({storage['used_bytes']} bytes)",
                  f"  last pull {up['last_pull_time'] or 'never'}"]
        if up["top_images"]:
            lines.append("  most pulled:")
            width = max(len(i["repository"]) for i in up["top_images"])
            lines += [f"    {i['repository']:<{width}}  {i['pull_count']:>6} pulls  "
                      f"last {i['last_pull_time'] or 'never'}" for i in up["top_images"]]
    return "\n".join(lines) + "\n"
