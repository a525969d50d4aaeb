"""Benchmarks for harbor-cache (issue 9): run with ``scripts/bench [name]``; results in bench/results.json."""
