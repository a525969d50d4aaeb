"""The cache report: per upstream (Harbor proxy-cache project), what Harbor holds and how it is used.

``python -m components.report <stack> [--json]`` (README, docs/report.md). The parts:

* ``stack.py``: the stack's outputs and admin password through the ``pulumi`` CLI, and which projects they name
  (``imagePrefixes``: every upstream host -> ``<harbor>/<project>``; a stack from before it: ``imagePrefix``
  and ``upstreamRegistry``);
* ``collect.py``: Harbor's API (components/harbor_api): the project summary (repositories, quota), the
  repositories (``pull_count``) and their artifacts (``pull_time``);
* ``render.py``: the text form; the JSON form follows ``docs/report.schema.json``.
"""

from components.report.collect import UpstreamReport, collect
from components.report.stack import CacheTarget, StackView, targets_from_outputs

__all__ = ["CacheTarget", "StackView", "UpstreamReport", "collect", "targets_from_outputs"]
