"""Harbor's list semantics: the ``q`` filter (exact and fuzzy), the deprecated ``name`` filter, and paging
(``page``/``page_size``, ``X-Total-Count``, ``Link`` with ``rel="next"``/``"prev"``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlencode

from lab.harbor_double.messages import API, Reply, Request, error

Q_SHAPE = 'the query string must contain "=" and the key/value cannot be empty'


def parse_q(q: str) -> list[tuple[str, str, Any]] | Reply:
    """Harbor's ``q`` (``lib/q/builder.go``): ``k=v`` exact, compared *as sent* (quotes stay, digits stay text);
    ``k=~v`` fuzzy (case-insensitive contains); ``k={a b}`` any of; ``k=[a~b]`` range; a 400 for a malformed one."""
    q = unquote_plus(q)  # Harbor unescapes the value once more
    out: list[tuple[str, str, Any]] = []
    for part in q.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            return error(400, "BAD_REQUEST", Q_SHAPE)
        if value[0] == "~":
            if len(value) < 2:
                return error(400, "BAD_REQUEST", f"invalid query string value: {value}")
            out.append((key, "fuzzy", value[1:]))
        elif value[0] == "{":
            if value[-1] != "}":
                return error(400, "BAD_REQUEST", f"invalid query string value: {value}")
            out.append((key, "any", [v for v in value[1:-1].split(" ") if v]))
        elif value[0] == "[":
            low, tilde, high = value[1:-1].partition("~")
            if value[-1] != "]" or not tilde or "~" in high or not (low.strip() or high.strip()):
                return error(400, "BAD_REQUEST", f"invalid query string value: {value}")
            out.append((key, "range", (low.strip(), high.strip())))
        elif value[0] == "(":
            out.append((key, "all", [v for v in value[1:-1].split(" ") if v]))
        else:
            out.append((key, "exact", value[1:] if value[0] == "\\" else value))
    return out


def _number_or_text(v: str) -> Any:
    return int(v) if v.lstrip("-").isdigit() else v


def q_match(item: dict[str, Any], filters: list[tuple[str, str, Any]]) -> bool:
    """True when ``item`` passes every ``q`` filter; a key the item does not have is ignored, as Harbor does."""
    for key, kind, value in filters:
        if key not in item:
            continue
        have = item[key]
        text = str(have).lower() if isinstance(have, bool) else str(have)
        if kind == "exact" and text != value:
            return False
        if kind == "fuzzy" and value.lower() not in text.lower():
            return False
        if kind == "any" and text not in [str(v) for v in value]:
            return False
        if kind == "all" and any(text != str(v) for v in value):
            return False
        if kind == "range":
            low, high = (_number_or_text(v) if v else None for v in value)
            try:
                if (low is not None and have < low) or (high is not None and have > high):
                    return False
            except TypeError:  # a text bound on a number field (or the reverse) matches nothing
                return False
    return True


def filtered(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]] | Reply:
    """The items that pass the request's ``q`` and ``name`` filters, by id; a 400 reply for a bad ``q``."""
    q = req.query.get("q", [""])[0]
    filters = parse_q(q) if q else []
    if isinstance(filters, tuple):
        return filters
    out = [i for i in items if q_match(i, filters)]
    if "name" in req.query:  # the deprecated parameter is fuzzy
        out = [i for i in out if req.query["name"][0].lower() in str(i.get("name", "")).lower()]
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
