"""Harbor's list semantics: the ``q`` filter (exact and fuzzy), the deprecated ``name`` filter, and paging
(``page``/``page_size``, ``X-Total-Count``, ``Link`` with ``rel="next"``/``"prev"``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from lab.harbor_double.messages import API, Reply, Request, error


def parse_q(q: str) -> list[tuple[str, str, Any]] | None:
    """Harbor's ``q``: ``k=v`` exact, ``k=~v`` fuzzy; quoted values are strings, bare digits integers."""
    out: list[tuple[str, str, Any]] = []
    for part in filter(None, q.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key:
            return None
        kind = "exact"
        if value.startswith("~"):
            kind, value = "fuzzy", value[1:]
        if value[:1] in ("[", "{", "("):
            return None
        parsed: Any = value
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            parsed = value[1:-1]
        elif value.isdigit():
            parsed = int(value)
        out.append((key, kind, parsed))
    return out


def q_match(item: dict[str, Any], filters: list[tuple[str, str, Any]]) -> bool:
    """True when ``item`` passes every ``q`` filter."""
    for key, kind, value in filters:
        have = item.get(key)
        if kind == "fuzzy" and str(value) not in str(have):
            return False
        if kind == "exact" and have != value:
            return False
    return True


def filtered(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]] | Reply:
    """The items that pass the request's ``q`` and ``name`` filters, by id; a 400 reply for a bad ``q``."""
    q = req.query.get("q", [""])[0]
    filters = parse_q(q) if q else []
    if filters is None:
        return error(400, "BAD_REQUEST", f"invalid query string {q!r}")
    out = [i for i in items if q_match(i, filters)]
    if "name" in req.query:  # the deprecated parameter is fuzzy
        out = [i for i in out if req.query["name"][0] in str(i.get("name", ""))]
    return sorted(out, key=lambda i: i.get("id") or i.get("project_id") or 0)


def paged(req: Request, items: list[dict[str, Any]]) -> Reply:
    """One page of ``items`` with Harbor's paging headers."""
    page = int(req.query.get("page", ["1"])[0])
    size = int(req.query.get("page_size", ["10"])[0])
    if page < 1 or size < 1:
        return error(400, "BAD_REQUEST", "page and page_size must be positive")
    total = len(items)
    chunk = items[(page - 1) * size : page * size]
    links = []
    base = API + req.path
    others = {k: v[0] for k, v in req.query.items() if k not in ("page", "page_size")}
    if page * size < total:
        links.append(f'<{base}?{urlencode({**others, "page": page + 1, "page_size": size})}>; rel="next"')
    if page > 1:
        links.append(f'<{base}?{urlencode({**others, "page": page - 1, "page_size": size})}>; rel="prev"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = " , ".join(links)
    return 200, chunk, headers


def filtered_page(req: Request, items: list[dict[str, Any]]) -> Reply:
    """``filtered`` then ``paged``: a list operation's whole reply."""
    found = filtered(req, items)
    return found if isinstance(found, tuple) else paged(req, found)
