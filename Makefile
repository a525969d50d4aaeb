bench:
	scripts/bench

.PHONY: bench
