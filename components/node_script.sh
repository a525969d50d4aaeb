#!/bin/sh
# harbor-cache node script: point containerd's CRI at a certs.d directory and keep the Harbor mirror
# files there. POSIX sh; modes: apply (converge), check (report drift, change nothing), remove (restore).
# Rendered by components/node_script.py: the block below is replaced by the inputs, and the desired files
# travel inside this script on stdin (never on a command line). Prints one line:
#   HARBOR_CACHE_RESULT {"mode":...,"ok":...,"changed":[...],"restarted":...,"containerd":...}
# @HARBOR_CACHE_INPUTS@
set -eu
umask 022
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TAB=$(printf '\t')

CHANGED=""; DRIFT=""; WARNINGS=""; RESTARTED=false; ROLLED_BACK=false
CTR_VERSION=""; CFG_VERSION=""; CFG_ACTION=""; CFG_TABLE=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/harbor-cache.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

say() { printf 'harbor-cache: %s\n' "$*" >&2; }

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n\t' '  ')"; }

json_list() {  # newline-separated items -> JSON array
    jl_out=""
    jl_old_ifs=$IFS; IFS='
'
    for jl_item in $1; do
        [ -n "$jl_item" ] || continue
        jl_out="$jl_out${jl_out:+,}$(json_str "$jl_item")"
    done
    IFS=$jl_old_ifs
    printf '[%s]' "$jl_out"
}

add() { printf '%s\n%s' "$1" "$2"; }  # add LIST ITEM -> LIST with ITEM appended

emit() {  # emit OK ERROR
    em_err=null
    [ -z "$2" ] || em_err=$(json_str "$2")
    em_ver=null
    [ -z "$CFG_VERSION" ] || em_ver=$CFG_VERSION
    printf 'HARBOR_CACHE_RESULT {"mode":%s,"ok":%s,"containerd":%s,"config_version":%s,"config":%s,"table":%s,"changed":%s,"drift":%s,"restarted":%s,"rolled_back":%s,"warnings":%s,"error":%s}\n' \
        "$(json_str "$HC_MODE")" "$1" "$(json_str "$CTR_VERSION")" "$em_ver" "$(json_str "$CFG_ACTION")" \
        "$(json_str "$CFG_TABLE")" "$(json_list "$CHANGED")" "$(json_list "$DRIFT")" "$RESTARTED" "$ROLLED_BACK" \
        "$(json_list "$WARNINGS")" "$em_err"
}

die() { say "ERROR: $*"; emit false "$*"; exit 1; }
warn() { say "warning: $*"; WARNINGS=$(add "$WARNINGS" "$*"); }

# ---------------------------------------------------------------- containerd version and restart

detect_containerd() {
    command -v "$HC_CONTAINERD" >/dev/null 2>&1 || die "containerd binary '$HC_CONTAINERD' not found"
    dc_out=$("$HC_CONTAINERD" --version 2>/dev/null) || die "'$HC_CONTAINERD --version' failed"
    # "containerd github.com/containerd/containerd[/v2] v1.6.20~ds1 <rev>": first x.y.z after the name.
    CTR_VERSION=$(printf '%s\n' "$dc_out" | awk '{for(i=2;i<=NF;i++) if (match($i, /^v?[0-9]+\.[0-9]+\.[0-9]+/)) {s=substr($i,RSTART,RLENGTH); sub(/^v/,"",s); print s; exit}}')
    [ -n "$CTR_VERSION" ] || die "cannot parse containerd version from: $dc_out"
    CTR_MAJOR=${CTR_VERSION%%.*}
    dc_rest=${CTR_VERSION#*.}
    CTR_MINOR=${dc_rest%%.*}
}

has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

restart_containerd() {
    if [ -n "$HC_RESTART_CMD" ]; then
        sh -c "$HC_RESTART_CMD" >&2
    elif has_systemd; then
        systemctl restart containerd >&2
    else
        say "no systemd and no restart command configured"
        return 1
    fi
}

containerd_healthy() {
    if [ -n "$HC_HEALTH_CMD" ]; then
        sh -c "$HC_HEALTH_CMD" >/dev/null 2>&1
    elif has_systemd; then
        systemctl is-active --quiet containerd
    else
        return 1
    fi
}

wait_healthy() {
    wh_end=$(( $(date +%s) + HC_HEALTH_TIMEOUT ))
    while :; do
        containerd_healthy && return 0
        [ "$(date +%s)" -lt "$wh_end" ] || return 1
        sleep 1
    done
}

# ---------------------------------------------------------------- backups and atomic writes

path_id() { printf '%s' "$1" | cksum | awk '{print $1 "-" $2}'; }

is_managed() { [ -f "$HC_STATE_DIR/managed" ] && grep -qxF "$1" "$HC_STATE_DIR/managed"; }

backup_once() {  # keep the original (or an 'absent' marker) the first time a path is touched
    is_managed "$1" && return 0
    mkdir -p "$HC_STATE_DIR/orig" "$HC_STATE_DIR/written"
    chmod 700 "$HC_STATE_DIR"
    bo_id=$(path_id "$1")
    if [ -e "$1" ]; then
        cp -p "$1" "$HC_STATE_DIR/orig/$bo_id"
    else
        : >"$HC_STATE_DIR/orig/$bo_id.absent"
    fi
    printf '%s\n' "$1" >>"$HC_STATE_DIR/managed"
}

ensure_dir() {  # mkdir -p, remembering each directory created so remove can take it away again
    [ -d "$1" ] && return 0
    ensure_dir "$(dirname "$1")"
    mkdir "$1"
    mkdir -p "$HC_STATE_DIR"
    printf '%s\n' "$1" >>"$HC_STATE_DIR/dirs"
}

atomic_put() {  # atomic_put SRC DEST: same-directory temp file + rename, keeping DEST's mode/owner
    ap_tmp="$(dirname "$2")/.harbor-cache.$$.$(basename "$2")"
    if [ -e "$2" ]; then
        { cp -p "$2" "$ap_tmp" && cat "$1" >"$ap_tmp"; } || die "cannot write $ap_tmp"
    else
        { cp "$1" "$ap_tmp" && chmod 644 "$ap_tmp"; } || die "cannot write $ap_tmp"
    fi
    replace_file "$ap_tmp" "$2"
}

replace_file() {  # rename TMP over DEST; a bind-mounted DEST (/etc/hosts in a kind node) is rewritten in place
    if mv -f "$1" "$2" 2>/dev/null; then return 0; fi
    { cat "$1" >"$2" && rm -f "$1"; } || { rm -f "$1"; die "cannot replace $2"; }
}

put_file() {  # put_file SRC DEST: write DEST atomically unless it already holds SRC's bytes
    if [ -f "$2" ] && cmp -s "$1" "$2"; then return 0; fi
    ensure_dir "$(dirname "$2")"
    backup_once "$2"
    atomic_put "$1" "$2"
    cp "$1" "$HC_STATE_DIR/written/$(path_id "$2")" || die "cannot record $2 in $HC_STATE_DIR"
    CHANGED=$(add "$CHANGED" "$2")
}

restore_path() {  # put back the original bytes, mode and mtime (or delete the file when it did not exist)
    rp_id=$(path_id "$1")
    if [ -e "$HC_STATE_DIR/orig/$rp_id.absent" ]; then
        [ ! -e "$1" ] || rm -f "$1" || die "cannot remove $1"
    else
        rp_tmp="$(dirname "$1")/.harbor-cache.$$.$(basename "$1")"
        cp -p "$HC_STATE_DIR/orig/$rp_id" "$rp_tmp" || die "cannot restore $1"
        replace_file "$rp_tmp" "$1"
    fi
    CHANGED=$(add "$CHANGED" "$1")
}

release_path() {  # hand a managed path back: original if untouched since we wrote it, else keep others' edits
    rl_id=$(path_id "$1")
    if [ -f "$HC_STATE_DIR/written/$rl_id" ] && [ -f "$1" ] && ! cmp -s "$HC_STATE_DIR/written/$rl_id" "$1"; then
        if [ "$1" = "$HC_HOSTS_FILE" ]; then   # edited by someone else: only take our line out
            grep -v ' # harbor-cache$' "$1" >"$WORK/hosts.rm" || true
            atomic_put "$WORK/hosts.rm" "$1"; CHANGED=$(add "$CHANGED" "$1")
        else
            warn "$1 changed since harbor-cache wrote it; left in place"
        fi
        return 0
    fi
    restore_path "$1"
}

unmanage() {
    um_id=$(path_id "$1")
    rm -f "$HC_STATE_DIR/orig/$um_id" "$HC_STATE_DIR/orig/$um_id.absent" "$HC_STATE_DIR/written/$um_id"
    grep -vxF "$1" "$HC_STATE_DIR/managed" >"$WORK/managed" || true
    cat "$WORK/managed" >"$HC_STATE_DIR/managed"
}

# ---------------------------------------------------------------- config.toml planning

# Facts about a config file, one key=value per line: version, nonempty, legacy, and for table $2:
# tables (header count), cp (config_path lines), cpval, keys (registry options set), mirrors, tls, dotted.
analyze_config() {
    awk -v T="$2" '
    function norm(h) { sub(/#.*$/, "", h); gsub(/[ \t]/, "", h); gsub(/\047/, "\"", h); sub(/^\[+/, "", h); sub(/\]+$/, "", h); return h }
    function strval(s,  q) { sub(/^[^=]*=[ \t]*/, "", s); q = substr(s, 1, 1); s = substr(s, 2); sub(q ".*$", "", s); return s }
    BEGIN { sec = ""; parent = T; sub(/\.registry$/, "", parent) }
    /^[ \t]*(#.*)?$/ { next }
    { nonempty = 1 }
    /^[ \t]*\[/ { sec = norm($0); seen_header = 1
        if (sec == T) tables++
        if (index(sec, "plugins") == 1) legacy_plugins = 1
        if (index(sec, T ".mirrors.") == 1) mirrors = 1
        if (index(sec, T ".configs.") == 1 && sec ~ /\.tls$/) tls = 1
        if (index(sec, T ".") == 1) subtables = 1
        next }
    !seen_header && /^[ \t]*version[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[^0-9].*$/, "", v); version = v }
    !seen_header && /^[ \t]*(disabled_plugins|required_plugins)[ \t]*=[ \t]*\[[ \t]*[^] \t]/ { legacy_plugins = 1 }
    sec == T && /^[ \t]*config_path[ \t]*=/ { cp++; cpval = strval($0); next }
    sec == T { keys = 1; if ($0 ~ /^[ \t]*mirrors/) mirrors = 1 }
    index(sec, T ".") == 1 { keys = 1; if (index(sec, T ".mirrors") == 1) mirrors = 1 }
    sec == parent && /^[ \t]*registry[ \t]*[.=]/ { dotted = 1 }
    END { printf "version=%s\nnonempty=%d\nlegacy=%d\ntables=%d\ncp=%d\ncpval=%s\nkeys=%d\nmirrors=%d\ntls=%d\ndotted=%d\nsubtables=%d\n",
          version, nonempty, legacy_plugins, tables, cp, cpval, keys, mirrors, tls, dotted, subtables }
    ' "$1"
}

fact() { sed -n "s/^$1=//p" "$WORK/facts"; }

# edit_config SRC DEST TABLE ACTION: ACTION is replace | insert | append | prepend-version:N
edit_config() {
    awk -v T="$3" -v V="$HC_CONFIG_PATH" -v A="$4" '
    function norm(h) { sub(/#.*$/, "", h); gsub(/[ \t]/, "", h); gsub(/\047/, "\"", h); sub(/^\[+/, "", h); sub(/\]+$/, "", h); return h }
    /^[ \t]*\[/ { h = norm($0)
        if (A == "append" && !done && index(h, T ".") == 1) {   # new table goes before its first sub-table
            printf "[%s]\n  config_path = \"%s\"\n\n", T, V; done = 1 }
        sec = h; print; if (A == "insert" && sec == T && !done) {
            ind = $0; sub(/[^ \t].*$/, "", ind); printf "%s  config_path = \"%s\"\n", ind, V; done = 1 }
        next }
    A == "replace" && sec == T && /^[ \t]*config_path[ \t]*=/ && !done {
        ind = $0; sub(/[^ \t].*$/, "", ind); printf "%sconfig_path = \"%s\"\n", ind, V; done = 1; next }
    { print }
    END { if (A == "append" && !done) printf "\n[%s]\n  config_path = \"%s\"\n", T, V }
    ' "$1" >"$2"
}

in_path_list() {  # in_path_list VALUE LIST(colon-separated)
    ipl_old=$IFS; IFS=:
    for ipl_p in $2; do
        if [ "${ipl_p%/}" = "${1%/}" ]; then IFS=$ipl_old; return 0; fi
    done
    IFS=$ipl_old; return 1
}

T_V2='plugins."io.containerd.grpc.v1.cri".registry'
T_V3='plugins."io.containerd.cri.v1.images".registry'

# Decide what config.toml needs; sets CFG_ACTION and writes $WORK/config.new when a change is needed.
# config_path is always set explicitly to one directory: containerd >= 2.2 defaults it to the list
# "/etc/containerd/certs.d:/etc/docker/certs.d", but its CRI pull (transfer service) does not split lists.
plan_config() {
    pc_src="$WORK/config.cur"
    if [ -f "$HC_CONFIG" ]; then cp "$HC_CONFIG" "$pc_src"; else : >"$pc_src"; fi
    if [ "$CTR_MAJOR" -ge 2 ]; then pc_new_version=3; pc_table=$T_V3; else pc_new_version=2; pc_table=$T_V2; fi
    analyze_config "$pc_src" "$pc_table" >"$WORK/facts"
    CFG_VERSION=$(fact version)
    if [ "$(fact nonempty)" = 0 ]; then
        CFG_TABLE=$pc_table; CFG_VERSION=$pc_new_version
        { cat "$pc_src"; printf 'version = %s\n\n[%s]\n  config_path = "%s"\n' "$pc_new_version" "$pc_table" "$HC_CONFIG_PATH"; } >"$WORK/config.new"
        CFG_ACTION=set; return 0
    fi
    pc_prefix=""
    if [ -z "$CFG_VERSION" ]; then
        [ "$(fact legacy)" = 0 ] || die "$HC_CONFIG has no 'version' line but sets plugins (version 1 format); migrate it first (containerd config migrate) or add an explicit version"
        pc_prefix="version = $pc_new_version"; CFG_VERSION=$pc_new_version
    fi
    if [ "$CFG_VERSION" -ge 3 ]; then
        [ "$CTR_MAJOR" -ge 2 ] || die "$HC_CONFIG is config version $CFG_VERSION but containerd $CTR_VERSION reads version 2 only"
        pc_table=$T_V3
    else
        pc_table=$T_V2   # version 2: containerd 1.x reads it; 2.x migrates this table into the images plugin
    fi
    CFG_TABLE=$pc_table
    analyze_config "$pc_src" "$pc_table" >"$WORK/facts"
    [ "$(fact tables)" -le 1 ] || die "$HC_CONFIG defines [$pc_table] more than once (invalid TOML); fix it by hand"
    [ "$(fact dotted)" = 0 ] || die "$HC_CONFIG sets the registry with dotted keys or an inline table; unsupported, set config_path = \"$HC_CONFIG_PATH\" in [$pc_table] by hand"
    [ "$(fact mirrors)" = 0 ] || die "$HC_CONFIG has registry mirrors under [$pc_table.mirrors]; containerd rejects mirrors together with config_path. Move them to hosts.toml files under $HC_CONFIG_PATH and delete the mirrors entries"
    [ "$(fact tls)" = 0 ] || die "$HC_CONFIG has [$pc_table.configs.*.tls]; containerd rejects configs.tls together with config_path. Move them to hosts.toml files"
    pc_cpval=$(fact cpval)
    if [ "$(fact cp)" -gt 0 ]; then
        if [ "${pc_cpval%/}" = "${HC_CONFIG_PATH%/}" ]; then CFG_ACTION=unchanged; return 0; fi
        if [ -n "$pc_cpval" ] && in_path_list "$HC_CONFIG_PATH" "$pc_cpval"; then
            # 1.x CRI splits a ':' list; 2.x pulls through the transfer service, which takes the whole
            # string as one directory (containerd 2.2.9 internal/cri/server/images/image_pull.go).
            if [ "$CTR_MAJOR" -lt 2 ]; then CFG_ACTION=unchanged; return 0; fi
            warn "config_path \"$pc_cpval\" is a list, which containerd $CTR_VERSION's CRI pull ignores; set to $HC_CONFIG_PATH"
        elif [ -n "$pc_cpval" ]; then
            die "$HC_CONFIG already sets config_path = \"$pc_cpval\"; set the node certs directory to that path instead of $HC_CONFIG_PATH"
        fi
        pc_action=replace
    elif [ "$(fact tables)" = 1 ]; then
        pc_action=insert
    else
        pc_action=append
    fi
    edit_config "$pc_src" "$WORK/config.edit" "$pc_table" "$pc_action"
    if [ -n "$pc_prefix" ]; then
        { printf '%s\n' "$pc_prefix"; cat "$WORK/config.edit"; } >"$WORK/config.new"
    else
        mv "$WORK/config.edit" "$WORK/config.new"
    fi
    analyze_config "$WORK/config.new" "$pc_table" >"$WORK/facts"
    [ "$(fact tables)" -le 1 ] && [ "$(fact cp)" = 1 ] && [ "$(fact cpval)" = "$HC_CONFIG_PATH" ] \
        || die "internal error: edited $HC_CONFIG does not carry exactly one config_path"
    CFG_ACTION=set
}

validate_config() {  # containerd itself must accept the new file before it is used
    vc_dir=$(dirname "$HC_CONFIG")
    ensure_dir "$vc_dir"
    vc_tmp="$vc_dir/.harbor-cache-validate.$$.toml"
    cp "$1" "$vc_tmp"
    if ! "$HC_CONTAINERD" --config "$vc_tmp" config dump >"$WORK/dump" 2>"$WORK/dump.err"; then
        rm -f "$vc_tmp"
        die "containerd rejected the new config: $(tail -n 3 "$WORK/dump.err" | tr '\n' ' ')"
    fi
    rm -f "$vc_tmp"
    grep -qF "config_path = \"$HC_CONFIG_PATH\"" "$WORK/dump" || grep -qF "config_path = '$HC_CONFIG_PATH'" "$WORK/dump" \
        || die "containerd accepted the new config but its effective config_path is not $HC_CONFIG_PATH"
}

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
    [ ! -f "$WORK/config.new" ] || DRIFT=$(add "$DRIFT" "$HC_CONFIG")
    load_payload
    while IFS="$TAB" read -r ck_dest ck_src; do
        { [ -f "$ck_dest" ] && cmp -s "$ck_src" "$ck_dest"; } || DRIFT=$(add "$DRIFT" "$ck_dest")
    done <"$WORK/desired"
    if [ -f "$HC_STATE_DIR/managed" ]; then
        while read -r ck_path; do
            [ "$ck_path" = "$HC_CONFIG" ] || is_desired "$ck_path" || DRIFT=$(add "$DRIFT" "$ck_path")
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
            if [ "$ap_path" != "$HC_CONFIG" ] && ! is_desired "$ap_path"; then
                release_path "$ap_path"; unmanage "$ap_path"
            fi
        done <"$WORK/managed.old"
    fi
    [ -f "$WORK/config.new" ] || { emit true ""; return 0; }
    if [ -f "$HC_CONFIG" ]; then cp -p "$HC_CONFIG" "$WORK/config.before"; fi
    put_file "$WORK/config.new" "$HC_CONFIG"
    if restart_containerd && wait_healthy; then
        RESTARTED=true; emit true ""; return 0
    fi
    say "containerd did not come back after the restart; rolling back $HC_CONFIG"
    if [ -f "$WORK/config.before" ]; then atomic_put "$WORK/config.before" "$HC_CONFIG"; else rm -f "$HC_CONFIG"; fi
    id_cfg=$(path_id "$HC_CONFIG")
    if [ -e "$HC_STATE_DIR/orig/$id_cfg.absent" ] || cmp -s "$HC_CONFIG" "$HC_STATE_DIR/orig/$id_cfg" 2>/dev/null; then
        unmanage "$HC_CONFIG"
    fi
    ROLLED_BACK=true
    if restart_containerd && wait_healthy; then
        RESTARTED=true; die "restart with the new config.toml failed; rolled back, containerd is running on the previous config"
    fi
    die "restart with the new config.toml failed; rolled back, but containerd is still not healthy: check the node"
}

do_remove() {
    detect_containerd
    [ -f "$HC_STATE_DIR/managed" ] || { CFG_ACTION=none; emit true ""; return 0; }
    if [ -f "$HC_CONFIG" ]; then cp -p "$HC_CONFIG" "$WORK/config.before"; else : >"$WORK/config.before"; fi
    cp "$HC_STATE_DIR/managed" "$WORK/managed.old"
    while read -r rm_path; do
        release_path "$rm_path"
    done <"$WORK/managed.old"
    rm_cur="$WORK/config.after"
    if [ -f "$HC_CONFIG" ]; then cp "$HC_CONFIG" "$rm_cur"; else : >"$rm_cur"; fi
    if ! cmp -s "$WORK/config.before" "$rm_cur"; then   # config.toml went back: containerd must reload it
        if restart_containerd && wait_healthy; then
            RESTARTED=true
        else
            atomic_put "$WORK/config.before" "$HC_CONFIG"; ROLLED_BACK=true
            if restart_containerd && wait_healthy; then RESTARTED=true; fi
            die "containerd did not come back on the restored config.toml; put the harbor-cache config back, state kept in $HC_STATE_DIR"
        fi
    fi
    if [ -f "$HC_STATE_DIR/dirs" ]; then   # directories we created, deepest first, only when empty
        sort -r "$HC_STATE_DIR/dirs" | while read -r rm_dir; do rmdir "$rm_dir" 2>/dev/null || true; done
    fi
    # The state directory may itself be a mount point (image-based nodes bind /var/lib paths): then it stays, empty.
    rm -rf "$HC_STATE_DIR" 2>/dev/null || [ -z "$(ls -A "$HC_STATE_DIR" 2>/dev/null)" ] \
        || die "cannot remove $HC_STATE_DIR"
    CFG_ACTION=restored
    emit true ""
}

case "$HC_MODE" in
    apply) detect_containerd; do_apply ;;
    check) detect_containerd; do_check ;;
    remove) do_remove ;;
    *) die "unknown mode $HC_MODE (apply|check|remove)" ;;
esac
