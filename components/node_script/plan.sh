# harbor-cache node script, part plan.sh: what config.toml needs, and containerd's own check of a new file.
# The decision itself is plan_config.awk (one awk program, inlined below by the renderer).

plan_config_awk() {  # plan_config_awk SRC NEW: print the plan for SRC; write NEW when a change is needed
    awk -v MAJOR="$CTR_MAJOR" -v CTR="$CTR_VERSION" -v CONFIG_TOML="$HC_CONFIG_TOML" -v CERTS_DIR="$HC_CERTS_DIR" \
        -v NEW="$2" '
# @PLAN_CONFIG_AWK@
' "$1"
}

plan_value() { sed -n "s/^$1=//p" "$WORK/plan"; }

# Decide what config.toml needs; sets CFG_VERSION, CFG_TABLE, CFG_ACTION and writes $WORK/config.new when a
# change is needed. config_path is always set explicitly to one directory: containerd >= 2.2 defaults it to the
# list "/etc/containerd/certs.d:/etc/docker/certs.d", but its CRI pull (transfer service) does not split lists.
plan_config() {
    pc_src="$WORK/config.cur"
    if [ -f "$HC_CONFIG_TOML" ]; then cp "$HC_CONFIG_TOML" "$pc_src"; else : >"$pc_src"; fi
    rm -f "$WORK/config.new"
    plan_config_awk "$pc_src" "$WORK/config.new" >"$WORK/plan" || die "internal error: the config.toml planner failed"
    CFG_VERSION=$(plan_value version); CFG_TABLE=$(plan_value table); CFG_ACTION=$(plan_value action)
    CFG_IMPORTS=$(plan_value imports)
    plan_value warn >"$WORK/plan.warn"
    while IFS= read -r pc_warning; do warn "$pc_warning"; done <"$WORK/plan.warn"
    pc_error=$(plan_value error)
    [ -z "$pc_error" ] || die "$pc_error"
}

validate_config() {  # containerd itself must accept the new file before it is used
    vc_dir=$(dirname "$HC_CONFIG_TOML")
    ensure_dir "$vc_dir"
    vc_tmp="$vc_dir/.harbor-cache-validate.$$.toml"
    cp "$1" "$vc_tmp" 2>"$WORK/err" || { vc_err=$(cat "$WORK/err"); rm -f "$vc_tmp"; die "cannot write $vc_tmp: $vc_err"; }
    if ! "$HC_CONTAINERD" --config "$vc_tmp" config dump >"$WORK/dump" 2>"$WORK/dump.err"; then
        rm -f "$vc_tmp"
        die "containerd rejected the new config: $(tail -n 3 "$WORK/dump.err" | tr '\n' ' ')"
    fi
    rm -f "$vc_tmp"
    vc_hint=""
    [ "$CFG_IMPORTS" != 1 ] || vc_hint=" (it imports other files: one that configures the CRI plugin replaces this file's whole CRI section, so set config_path = \"$HC_CERTS_DIR\" there)"
    grep -qF "config_path = \"$HC_CERTS_DIR\"" "$WORK/dump" || grep -qF "config_path = '$HC_CERTS_DIR'" "$WORK/dump" \
        || die "containerd accepted the new config but its effective config_path is not $HC_CERTS_DIR$vc_hint"
}
