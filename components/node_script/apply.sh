# harbor-cache node script, part apply.sh: the modes that converge (apply) and report drift (check).

# ---------------------------------------------------------------- desired files

load_payload() {  # decode the embedded files into $WORK/files, list "<dest>" lines in $WORK/desired
    mkdir -p "$WORK/files"; : >"$WORK/desired"
    lp_n=0
    hc_payload | while IFS="$TAB" read -r lp_rel lp_b64; do
        [ -n "$lp_rel" ] || continue
        case "$lp_rel" in /* | *..* | *"$TAB"*) die "bad payload path $lp_rel" ;; esac
        lp_n=$((lp_n + 1))
        printf '%s' "$lp_b64" | base64 -d >"$WORK/files/$lp_n" || die "cannot decode payload for $lp_rel"
        printf '%s%s%s\n' "$HC_CERTS_DIR/$lp_rel" "$TAB" "$WORK/files/$lp_n" >>"$WORK/desired"
    done
    if [ -n "$HC_HOSTS_LINE" ]; then
        if [ -f "$HC_HOSTS_FILE" ]; then grep -v ' # harbor-cache$' "$HC_HOSTS_FILE" >"$WORK/hosts" || true; else : >"$WORK/hosts"; fi
        [ -z "$HC_HOSTS_LINE" ] || printf '%s\n' "$HC_HOSTS_LINE" >>"$WORK/hosts"
        printf '%s%s%s\n' "$HC_HOSTS_FILE" "$TAB" "$WORK/hosts" >>"$WORK/desired"
    fi
}

is_desired() { cut -f1 "$WORK/desired" | grep -qxF "$1"; }

# ---------------------------------------------------------------- modes

do_check() {
    plan_config
    [ ! -f "$WORK/config.new" ] || DRIFT=$(add "$DRIFT" "$HC_CONFIG_TOML")
    load_payload
    while IFS="$TAB" read -r ck_dest ck_src; do
        { [ -f "$ck_dest" ] && cmp -s "$ck_src" "$ck_dest"; } || DRIFT=$(add "$DRIFT" "$ck_dest")
    done <"$WORK/desired"
    if [ -f "$HC_STATE_DIR/managed" ]; then
        while read -r ck_path; do
            [ "$ck_path" = "$HC_CONFIG_TOML" ] || is_desired "$ck_path" || DRIFT=$(add "$DRIFT" "$ck_path")
        done <"$HC_STATE_DIR/managed"
    fi
    emit true ""
}

do_apply() {
    plan_config                      # all refusals happen here, before anything is written
    [ ! -f "$WORK/config.new" ] || validate_config "$WORK/config.new"
    load_payload
    while IFS="$TAB" read -r ap_dest ap_src; do
        put_file "$ap_src" "$ap_dest"
    done <"$WORK/desired"
    if [ -f "$HC_STATE_DIR/managed" ]; then   # files managed earlier but no longer wanted go back
        cp "$HC_STATE_DIR/managed" "$WORK/managed.old"
        while read -r ap_path; do
            if [ "$ap_path" != "$HC_CONFIG_TOML" ] && ! is_desired "$ap_path"; then
                release_path "$ap_path"; unmanage "$ap_path"
            fi
        done <"$WORK/managed.old"
    fi
    [ -f "$WORK/config.new" ] || { emit true ""; return 0; }
    if [ -f "$HC_CONFIG_TOML" ]; then cp -p "$HC_CONFIG_TOML" "$WORK/config.before"; fi
    put_file "$WORK/config.new" "$HC_CONFIG_TOML"
    if restart_containerd && wait_healthy; then
        RESTARTED=true; emit true ""; return 0
    fi
    say "containerd did not come back after the restart; rolling back $HC_CONFIG_TOML"
    if [ -f "$WORK/config.before" ]; then atomic_put "$WORK/config.before" "$HC_CONFIG_TOML"; else rm -f "$HC_CONFIG_TOML"; fi
    id_cfg=$(path_id "$HC_CONFIG_TOML")
    if [ -e "$HC_STATE_DIR/orig/$id_cfg.absent" ] || cmp -s "$HC_CONFIG_TOML" "$HC_STATE_DIR/orig/$id_cfg" 2>/dev/null; then
        unmanage "$HC_CONFIG_TOML"
    fi
    ROLLED_BACK=true
    if restart_containerd && wait_healthy; then
        RESTARTED=true; die "restart with the new config.toml failed; rolled back, containerd is running on the previous config"
    fi
    die "restart with the new config.toml failed; rolled back, but containerd is still not healthy: check the node"
}
