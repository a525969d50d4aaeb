# harbor-cache node script, part lib.sh: the shared helpers (start of a run, result line, containerd version
# and restart, backups and atomic writes). Every mode uses them; they change nothing on their own.
set -eu
umask 022
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TAB=$(printf '\t')

CHANGED=""; DRIFT=""; WARNINGS=""; RESTARTED=false; ROLLED_BACK=false
CTR_VERSION=""; CFG_VERSION=""; CFG_ACTION=""; CFG_TABLE=""; CFG_IMPORTS=""; WORK=""
# Every external tool the script runs. Minimal hosts lack some (Debian's busybox has no cksum): without one,
# a run must stop before it changes anything, never go on with half its tools.
HC_TOOLS="awk base64 basename cat chmod cmp cp cksum cut date dirname grep ls mkdir mktemp mv rm rmdir sed sleep sort
tail tr"

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

need_tools() {  # need_tools TOOL...: die naming every one that is not on PATH
    nt_missing=""
    for nt_tool in "$@"; do command -v "$nt_tool" >/dev/null 2>&1 || nt_missing="$nt_missing $nt_tool"; done
    [ -z "$nt_missing" ] || die "the node lacks$nt_missing (the node script needs: $(echo $HC_TOOLS))"
}

start_run() {  # check the tools, then make the run's scratch directory (removed on exit, with our lock)
    # shellcheck disable=SC2086
    need_tools $HC_TOOLS
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/harbor-cache.XXXXXX") || die "cannot create a scratch directory"
    trap 'rm -rf "$WORK"; [ -z "$LOCK" ] || rm -rf "$LOCK"' EXIT
    trap 'exit 130' INT TERM
}

# ---------------------------------------------------------------- one run at a time

LOCK=""
HC_LOCK_WAIT=${HC_LOCK_WAIT:-120}

take_lock() {  # apply and remove never interleave on a node: mkdir is atomic; a killed holder's lock is taken over
    mkdir -p "$HC_STATE_DIR" 2>"$WORK/err" || die "cannot create $HC_STATE_DIR: $(cat "$WORK/err")"
    chmod 700 "$HC_STATE_DIR"
    tl_lock="$HC_STATE_DIR/lock"; tl_end=$(( $(date +%s) + HC_LOCK_WAIT )); tl_nopid=0
    while ! mkdir "$tl_lock" 2>/dev/null; do
        tl_pid=$(cat "$tl_lock/pid" 2>/dev/null || true)
        [ -n "$tl_pid" ] || tl_nopid=$((tl_nopid + 1))
        if { [ -n "$tl_pid" ] && ! kill -0 "$tl_pid" 2>/dev/null; } || [ "$tl_nopid" -gt 5 ]; then
            # its holder is gone (killed): only one waiter wins the rename, then everyone tries mkdir again
            mv "$tl_lock" "$tl_lock.stale.$$" 2>/dev/null && rm -rf "$tl_lock.stale.$$"
            tl_nopid=0; continue
        fi
        [ "$(date +%s)" -lt "$tl_end" ] \
            || die "another harbor-cache run (pid ${tl_pid:-unknown}) holds $tl_lock; gave up after ${HC_LOCK_WAIT}s"
        sleep 1
    done
    LOCK=$tl_lock
    echo $$ >"$LOCK/pid"
}

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

restart_containerd() {  # what the restart printed stays in $WORK/restart.out (restart_message reads it)
    rc_status=0
    if [ -n "$HC_RESTART_CMD" ]; then
        sh -c "$HC_RESTART_CMD" >"$WORK/restart.out" 2>&1 || rc_status=$?
    elif has_systemd; then
        systemctl restart containerd >"$WORK/restart.out" 2>&1 || rc_status=$?
    else
        echo "no systemd and no restart command configured" >"$WORK/restart.out"; rc_status=1
    fi
    cat "$WORK/restart.out" >&2 2>/dev/null || true
    return "$rc_status"
}

restart_message() {  # containerd's own words about a failed start: the restart's output, then its journal
    rm_msg=$(tail -n 3 "$WORK/restart.out" 2>/dev/null | tr '\n' ' ')
    if has_systemd && command -v journalctl >/dev/null 2>&1; then
        rm_msg="$rm_msg$(journalctl -u containerd -n 3 --no-pager -o cat 2>/dev/null | tr '\n' ' ')"
    fi
    printf '%s' "${rm_msg:-no output}" | sed 's/  *$//'
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

path_id() {  # a file name for PATH under the state directory: "<crc>-<length>" of the path (cksum)
    pi_id=$(printf '%s' "$1" | cksum | awk '{print $1 "-" $2}')
    case "$pi_id" in [0-9]*-[0-9]*) printf '%s' "$pi_id" ;; *) say "ERROR: cksum failed for $1"; return 1 ;; esac
}

is_managed() { [ -f "$HC_STATE_DIR/managed" ] && grep -qxF "$1" "$HC_STATE_DIR/managed"; }

backup_once() {  # keep the original (or an 'absent' marker) the first time a path is touched
    is_managed "$1" && return 0
    mkdir -p "$HC_STATE_DIR/orig" "$HC_STATE_DIR/written"
    chmod 700 "$HC_STATE_DIR"
    bo_id=$(path_id "$1")
    if [ -e "$1" ]; then
        cp -p "$1" "$HC_STATE_DIR/orig/$bo_id" || die "cannot back up $1 in $HC_STATE_DIR"
        flush "$HC_STATE_DIR/orig/$bo_id"
    else
        : >"$HC_STATE_DIR/orig/$bo_id.absent"
    fi
    printf '%s\n' "$1" >>"$HC_STATE_DIR/managed"
}

ensure_dir() {  # mkdir -p, remembering each directory created (this run: $WORK/newdirs; remove: state's dirs)
    [ -d "$1" ] && return 0
    ensure_dir "$(dirname "$1")"
    mkdir "$1" 2>"$WORK/err" || die "cannot create $1: $(cat "$WORK/err")"
    printf '%s\n' "$1" >>"$WORK/newdirs"
    mkdir -p "$HC_STATE_DIR"
    printf '%s\n' "$1" >>"$HC_STATE_DIR/dirs"
}

tmp_name() {  # tmp_name DEST: the same-directory temp file for DEST (a name containerd never reads: no .crt/.toml end)
    printf '%s/.%s.harbor-cache-tmp.%s' "$(dirname "$1")" "$(basename "$1")" "$$"
}

clean_temps() {  # clean_temps DIR: temp files a killed run left in DIR (we hold the lock: none is in use)
    [ -d "$1" ] || return 0
    for ct_file in "$1"/.*.harbor-cache-tmp.* "$1"/.harbor-cache-validate.*; do
        [ ! -f "$ct_file" ] || rm -f "$ct_file"
    done
}

flush() {  # fsync the named files/directories (coreutils and busybox sync take names; else sync everything)
    sync "$@" 2>/dev/null || sync
}

stage_file() {  # stage_file SRC DEST: SRC's bytes in DEST's temp file, DEST's mode/owner, on disk; prints the temp
    sf_tmp=$(tmp_name "$2")
    if [ -e "$2" ]; then
        { cp -p "$2" "$sf_tmp" && cat "$1" >"$sf_tmp"; } 2>"$WORK/err"
    else
        { cp "$1" "$sf_tmp" && chmod 644 "$sf_tmp"; } 2>"$WORK/err"
    fi || { rm -f "$sf_tmp"; return 1; }
    flush "$sf_tmp"
    printf '%s' "$sf_tmp"
}

atomic_put() {  # atomic_put SRC DEST: same-directory temp file + rename, keeping DEST's mode/owner
    ap_tmp=$(stage_file "$1" "$2") || die "cannot write $2: $(cat "$WORK/err")"
    replace_file "$ap_tmp" "$2"
}

replace_file() {  # rename TMP over DEST; a bind-mounted DEST (/etc/hosts in a kind node) is rewritten in place
    if mv -f "$1" "$2" 2>/dev/null; then flush "$(dirname "$2")"; return 0; fi
    { cat "$1" >"$2" && rm -f "$1"; } || { rm -f "$1"; die "cannot replace $2"; }
}

put_file() {  # put_file SRC DEST: write DEST atomically unless it already holds SRC's bytes
    if [ -f "$2" ] && cmp -s "$1" "$2"; then return 0; fi
    ensure_dir "$(dirname "$2")"
    backup_once "$2"
    atomic_put "$1" "$2"
    record_written "$1" "$2"
}

record_written() {  # record_written SRC DEST: remember what we wrote (remove keeps later edits by others)
    cp "$1" "$HC_STATE_DIR/written/$(path_id "$2")" || die "cannot record $2 in $HC_STATE_DIR"
    CHANGED=$(add "$CHANGED" "$2")
}

restore_path() {  # put back the original bytes, mode and mtime (or delete the file when it did not exist)
    rp_id=$(path_id "$1")
    if [ -e "$HC_STATE_DIR/orig/$rp_id.absent" ]; then
        [ ! -e "$1" ] || rm -f "$1" || die "cannot remove $1"
    else
        rp_tmp=$(tmp_name "$1")
        cp -p "$HC_STATE_DIR/orig/$rp_id" "$rp_tmp" || { rm -f "$rp_tmp"; die "cannot restore $1"; }
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
