# harbor-cache node script, part remove.sh: the mode that hands every managed path back.

do_remove() {
    detect_containerd
    [ -f "$HC_STATE_DIR/managed" ] || { CFG_ACTION=none; emit true ""; return 0; }
    take_lock
    rm_pending=false   # an apply that died before restarting containerd: the restore must restart it
    [ ! -f "$HC_STATE_DIR/restart-pending" ] || rm_pending=true
    if [ -f "$HC_CONFIG_TOML" ]; then cp -p "$HC_CONFIG_TOML" "$WORK/config.before"; else : >"$WORK/config.before"; fi
    cp "$HC_STATE_DIR/managed" "$WORK/managed.old"
    while read -r rm_path; do
        clean_temps "$(dirname "$rm_path")"
        release_path "$rm_path"
    done <"$WORK/managed.old"
    rm_cur="$WORK/config.after"
    if [ -f "$HC_CONFIG_TOML" ]; then cp "$HC_CONFIG_TOML" "$rm_cur"; else : >"$rm_cur"; fi
    if ! cmp -s "$WORK/config.before" "$rm_cur" || [ "$rm_pending" = true ]; then   # config.toml went back: containerd must reload it
        if restart_containerd && wait_healthy; then
            RESTARTED=true
        else
            atomic_put "$WORK/config.before" "$HC_CONFIG_TOML"; ROLLED_BACK=true
            if restart_containerd && wait_healthy; then RESTARTED=true; fi
            die "containerd did not come back on the restored config.toml ($(restart_message)); put the harbor-cache config back, state kept in $HC_STATE_DIR"
        fi
    fi
    if [ -f "$HC_STATE_DIR/dirs" ]; then   # directories we created, deepest first, only when empty
        sort -r "$HC_STATE_DIR/dirs" | while read -r rm_dir; do
            clean_temps "$rm_dir"; rmdir "$rm_dir" 2>/dev/null || true
        done
    fi
    # The state directory may itself be a mount point (image-based nodes bind /var/lib paths): then it stays, empty.
    rm -rf "$HC_STATE_DIR" 2>/dev/null || [ -z "$(ls -A "$HC_STATE_DIR" 2>/dev/null)" ] \
        || die "cannot remove $HC_STATE_DIR"
    CFG_ACTION=restored
    emit true ""
}
