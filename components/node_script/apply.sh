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

PENDING_NOTE="containerd has not been restarted on it yet"

do_check() {
    plan_config
    [ ! -f "$WORK/config.new" ] || DRIFT=$(add "$DRIFT" "$HC_CONFIG_TOML")
    [ -f "$WORK/config.new" ] || [ ! -f "$HC_STATE_DIR/restart-pending" ] \
        || DRIFT=$(add "$DRIFT" "$HC_CONFIG_TOML ($PENDING_NOTE)")
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

unstage() {  # a write failed before anything was replaced: take back every temp file and new directory
    while IFS="$TAB" read -r us_dest us_tmp us_src; do rm -f "$us_tmp"; done <"$WORK/staged"
    [ ! -f "$WORK/newdirs" ] || sort -r "$WORK/newdirs" | while read -r us_dir; do rmdir "$us_dir" 2>/dev/null || true; done
    if [ -f "$WORK/newdirs" ] && [ -f "$HC_STATE_DIR/dirs" ]; then
        grep -vxF -f "$WORK/newdirs" "$HC_STATE_DIR/dirs" >"$WORK/dirs" || true
        cat "$WORK/dirs" >"$HC_STATE_DIR/dirs"
    fi
}

stage_all() {  # every changed file written next to its destination first: a full or read-only disk changes nothing
    : >"$WORK/staged"
    while IFS="$TAB" read -r sa_dest sa_src; do clean_temps "$(dirname "$sa_dest")"; done <"$1"
    while IFS="$TAB" read -r sa_dest sa_src; do
        if [ -f "$sa_dest" ] && cmp -s "$sa_src" "$sa_dest"; then continue; fi
        sa_dir=$(dirname "$sa_dest")
        if [ ! -d "$sa_dir" ] && ! (ensure_dir "$sa_dir") >/dev/null 2>&1; then
            [ ! -f "$WORK/err" ] || sa_err=$(cat "$WORK/err")
            unstage; die "cannot create $sa_dir: ${sa_err:-mkdir failed}"
        fi
        sa_tmp=$(stage_file "$sa_src" "$sa_dest") || { sa_err=$(cat "$WORK/err"); unstage; die "cannot write $sa_dest: $sa_err"; }
        printf '%s\t%s\t%s\n' "$sa_dest" "$sa_tmp" "$sa_src" >>"$WORK/staged"
    done <"$1"
}

do_apply() {
    take_lock
    pending="$HC_STATE_DIR/restart-pending"   # config.toml was replaced; containerd not yet confirmed on it
    plan_config                      # all refusals happen here, before anything is written
    [ ! -f "$WORK/config.new" ] || validate_config "$WORK/config.new"
    load_payload
    cp "$WORK/desired" "$WORK/plan.files"
    [ ! -f "$WORK/config.new" ] || printf '%s\t%s\n' "$HC_CONFIG_TOML" "$WORK/config.new" >>"$WORK/plan.files"
    stage_all "$WORK/plan.files"
    if [ -f "$WORK/config.new" ] && [ ! -f "$pending" ]; then   # the config containerd runs on now, for a rollback
        rm -f "$HC_STATE_DIR/config.prev" "$HC_STATE_DIR/config.prev.absent"
        if [ -f "$HC_CONFIG_TOML" ]; then
            cp -p "$HC_CONFIG_TOML" "$HC_STATE_DIR/config.prev" || { unstage; die "cannot keep $HC_CONFIG_TOML in $HC_STATE_DIR"; }
            flush "$HC_STATE_DIR/config.prev"
        else
            : >"$HC_STATE_DIR/config.prev.absent"
        fi
        : >"$pending"
    fi
    while IFS="$TAB" read -r ap_dest ap_tmp ap_src; do   # the renames: the only moment the node changes
        backup_once "$ap_dest"
        replace_file "$ap_tmp" "$ap_dest"
        record_written "$ap_src" "$ap_dest"
    done <"$WORK/staged"
    if [ -f "$HC_STATE_DIR/managed" ]; then   # files managed earlier but no longer wanted go back
        cp "$HC_STATE_DIR/managed" "$WORK/managed.old"
        while read -r ap_path; do
            if [ "$ap_path" != "$HC_CONFIG_TOML" ] && ! is_desired "$ap_path"; then
                release_path "$ap_path"; unmanage "$ap_path"
            fi
        done <"$WORK/managed.old"
    fi
    [ -f "$pending" ] || { emit true ""; return 0; }
    [ -f "$WORK/config.new" ] || say "a previous run replaced $HC_CONFIG_TOML but did not restart containerd: restarting now"
    if restart_containerd && wait_healthy; then
        rm -f "$pending" "$HC_STATE_DIR/config.prev" "$HC_STATE_DIR/config.prev.absent"
        RESTARTED=true; emit true ""; return 0
    fi
    ap_msg=$(restart_message)
    say "containerd did not come back after the restart; rolling back $HC_CONFIG_TOML"
    if [ -f "$HC_STATE_DIR/config.prev" ]; then
        atomic_put "$HC_STATE_DIR/config.prev" "$HC_CONFIG_TOML"
    else
        rm -f "$HC_CONFIG_TOML"
    fi
    id_cfg=$(path_id "$HC_CONFIG_TOML")
    if [ -e "$HC_STATE_DIR/orig/$id_cfg.absent" ] || cmp -s "$HC_CONFIG_TOML" "$HC_STATE_DIR/orig/$id_cfg" 2>/dev/null; then
        unmanage "$HC_CONFIG_TOML"
    fi
    ROLLED_BACK=true
    if restart_containerd && wait_healthy; then
        rm -f "$pending" "$HC_STATE_DIR/config.prev" "$HC_STATE_DIR/config.prev.absent"
        RESTARTED=true
        die "restart with the new config.toml failed ($ap_msg); rolled back, containerd is running on the previous config"
    fi
    die "restart with the new config.toml failed ($ap_msg); rolled back, but containerd is still not healthy ($(restart_message)): check the node"
}
