# `make bench`: every benchmark (root, after scripts/setup): bench/results.json, bench/charts/*.png and the
# results section of bench/README.md. `make bench-quick`: a small pull matrix (a few minutes), results in
# /tmp/harbor-cache-bench-quick.json; the committed results, charts and README stay as they are.
bench:
	scripts/bench

bench-quick:
	HARBOR_CACHE_BENCH_QUICK=1 HARBOR_CACHE_BENCH_RESULTS=/tmp/harbor-cache-bench-quick.json scripts/bench matrix

.PHONY: bench bench-quick
