#!/bin/sh
# harbor-cache node script: point containerd's CRI at a certs.d directory and keep the Harbor mirror
# files there. POSIX sh; modes: apply (converge), check (report drift, change nothing), remove (restore).
# Rendered by components/node_script/__init__.py from the parts in that directory (this head, lib.sh,
# plan.sh with plan_config.awk, apply.sh, remove.sh, main.sh): the block below is replaced by the inputs,
# and the desired files travel inside this script on stdin (never on a command line). Prints one line:
#   HARBOR_CACHE_RESULT {"mode":...,"ok":...,"changed":[...],"restarted":...,"containerd":...}
# @HARBOR_CACHE_INPUTS@
