"""One anonymous GET (no credentials, as a node's containerd would ask) that trusts a given CA.

The realm check (components/realm.py) and the pull verification (components/verification.py) both ask Harbor
this way; they differ only in what they read from the answer.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from email.message import Message


def anonymous_get(url: str, ca_pem: str = "", timeout: float = 10.0,
                  accept: str | None = None) -> tuple[int, Message, bytes]:
    """Status, headers and body of ``GET url``; an error status is an answer too. OSError when unreachable."""
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    headers = {"User-Agent": "harbor-cache", **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) URLs built by the program
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, b""
