# config.toml planner of the harbor-cache node script (POSIX awk: runs under busybox, mawk and gawk).
#
# Reads the config.toml of containerd (the file argument) and decides the one edit harbor-cache needs:
# `config_path = CERTS_DIR` in the CRI registry table of the layout that the containerd on the node reads.
#   containerd 1.x, config version 2: [plugins."io.containerd.grpc.v1.cri".registry]
#   containerd 2.x, config version 3: [plugins."io.containerd.cri.v1.images".registry]
#   containerd 2.x keeps reading a version-2 file (it migrates the 1.x table), so that table is edited then.
# The existing table is edited in place (comments, order and everything else stay as they are).
#
# Variables (-v): MAJOR containerd major version; CTR containerd version and CONFIG_TOML the config.toml path
# (both only for messages); CERTS_DIR the certs.d directory to set; NEW where the new file goes (written only
# when a change is needed).
# Prints key=value lines: version=N, table=T (TOML header without brackets), action=set|unchanged (empty on
# error), imports=1 when the file imports others, warn=TEXT (zero or more), error=TEXT (a refusal: the caller
# writes nothing).
#
# This text is embedded in a single-quoted shell word by the renderer: it must not contain a single quote
# (write \047 inside strings).

# A table header reduced to its name: comment, blanks and brackets removed, single quotes made double.
function norm(h) {
    sub(/#.*$/, "", h); gsub(/[ \t]/, "", h); gsub(/\047/, "\"", h); sub(/^\[+/, "", h); sub(/\]+$/, "", h)
    return h
}

# The string value of a `key = "value"` or `key = \047value\047` line; sets f_cpbad when it is not a string.
function strval(s,    q) {
    sub(/^[^=]*=[ \t]*/, "", s); q = substr(s, 1, 1)
    if (q != "\"" && q != "\047") { f_cpbad = s; return "" }
    s = substr(s, 2); sub(q ".*$", "", s)
    return s
}

function chop_slash(s) { sub(/\/$/, "", s); return s }

# Whether directory d is one element of the colon-separated list l (a trailing slash does not count).
function in_path_list(d, l,    parts, k, i) {
    k = split(l, parts, ":")
    for (i = 1; i <= k; i++) if (chop_slash(parts[i]) == chop_slash(d)) return 1
    return 0
}

# Facts about lines src[1..n] for registry table t, in globals: f_version (top-level version, digits),
# f_nonempty, f_legacy (plugins set without a version: the version-1 format), f_imports (a non-empty
# top-level imports list: an imported file that sets the CRI plugin replaces its whole section), f_tables
# (headers [t]),
# f_cp and f_cpval (config_path lines in [t] and the last value; f_cpbad: a value that is not a string),
# f_mirrors, f_tls (registry options that containerd rejects together with config_path), f_dotted (registry
# set with dotted keys or inline). A CRLF line ending is not part of a line.
function analyze(src, n, t,    i, l, sec, parent, seen_header, v) {
    f_version = ""; f_nonempty = 0; f_legacy = 0; f_imports = 0; f_tables = 0; f_cp = 0; f_cpval = ""; f_cpbad = ""
    f_mirrors = 0; f_tls = 0; f_dotted = 0
    sec = ""; parent = t; sub(/\.registry$/, "", parent); seen_header = 0
    for (i = 1; i <= n; i++) {
        l = src[i]; sub(/\r$/, "", l)
        if (l ~ /^[ \t]*(#.*)?$/) continue
        f_nonempty = 1
        if (l ~ /^[ \t]*\[/) {
            sec = norm(l); seen_header = 1
            if (sec == t) f_tables++
            if (index(sec, "plugins") == 1) f_legacy = 1
            if (index(sec, t ".mirrors.") == 1) f_mirrors = 1
            if (index(sec, t ".configs.") == 1 && sec ~ /\.tls$/) f_tls = 1
            continue
        }
        if (!seen_header && l ~ /^[ \t]*version[ \t]*=/) {
            v = l; sub(/^[^=]*=[ \t]*/, "", v); sub(/[^0-9].*$/, "", v); f_version = v
        }
        if (!seen_header && l ~ /^[ \t]*(disabled_plugins|required_plugins)[ \t]*=[ \t]*\[[ \t]*[^] \t]/) f_legacy = 1
        if (!seen_header && l ~ /^[ \t]*imports[ \t]*=[ \t]*\[[ \t]*[^] \t]/) f_imports = 1
        if (sec == t && l ~ /^[ \t]*config_path[ \t]*=/) { f_cp++; f_cpval = strval(l); continue }
        if (sec == t && l ~ /^[ \t]*mirrors/) f_mirrors = 1
        if (index(sec, t ".mirrors") == 1) f_mirrors = 1
        if (sec == parent && l ~ /^[ \t]*registry[ \t]*[.=]/) f_dotted = 1
    }
}

function indent(l) { sub(/[^ \t].*$/, "", l); return l }

# The config_path line (ending in CR when the file has CRLF line endings).
function setting(ind) { return ind "config_path = \"" CERTS_DIR "\"" eol }

# Copy L[1..n] to N after `first` lines already in N, setting config_path in table t the way `how` says:
# replace (the existing line), insert (first line of the existing table) or append (a new table, before the
# first sub-table of t, else at the end). Returns the new line count.
function edit(t, how, first,    m, i, l, h, sec, done) {
    m = first; sec = ""; done = 0
    for (i = 1; i <= n; i++) {
        l = L[i]; sub(/\r$/, "", l)
        if (l ~ /^[ \t]*\[/) {
            h = norm(l)
            if (how == "append" && !done && index(h, t ".") == 1) {
                N[++m] = "[" t "]" eol; N[++m] = setting("  "); N[++m] = eol; done = 1
            }
            sec = h; N[++m] = L[i]
            if (how == "insert" && sec == t && !done) { N[++m] = setting(indent(l) "  "); done = 1 }
            continue
        }
        if (how == "replace" && sec == t && !done && l ~ /^[ \t]*config_path[ \t]*=/) {
            N[++m] = setting(indent(l)); done = 1; continue
        }
        N[++m] = L[i]
    }
    if (how == "append" && !done) { N[++m] = eol; N[++m] = "[" t "]" eol; N[++m] = setting("  ") }
    return m
}

function report(action, error,    i) {
    printf "version=%s\ntable=%s\naction=%s\n", version, table, action
    if (imports) print "imports=1"
    for (i = 1; i <= warnings; i++) printf "warn=%s\n", warning[i]
    if (error != "") printf "error=%s\n", error
}

function fail(msg) { report("", msg); exit }

function write_new(m,    i) {
    for (i = 1; i <= m; i++) print N[i] > NEW
    close(NEW)
    report("set", "")
    exit
}

{ L[++n] = $0; if ($0 ~ /\r$/) eol = "\r" }

END {
    T2 = "plugins.\"io.containerd.grpc.v1.cri\".registry"
    T3 = "plugins.\"io.containerd.cri.v1.images\".registry"
    if (MAJOR >= 2) { new_version = 3; t = T3 } else { new_version = 2; t = T2 }
    version = ""; table = ""; warnings = 0
    analyze(L, n, t)
    version = f_version; imports = f_imports
    if (!f_nonempty) {  # empty, or only comments: a new file
        table = t; version = new_version
        for (i = 1; i <= n; i++) N[i] = L[i]
        m = n; N[++m] = "version = " new_version eol; N[++m] = eol; N[++m] = "[" t "]" eol; N[++m] = setting("  ")
        write_new(m)
    }
    first = 0
    if (version == "") {
        if (f_legacy) fail(CONFIG_TOML " has no \047version\047 line but sets plugins (version 1 format); migrate it first (containerd config migrate) or add an explicit version")
        N[++first] = "version = " new_version eol; version = new_version
    }
    if (version + 0 >= 3) {
        if (MAJOR < 2) fail(CONFIG_TOML " is config version " version " but containerd " CTR " reads version 2 only")
        t = T3
    } else {
        t = T2
    }
    table = t
    analyze(L, n, t)
    if (f_tables > 1) fail(CONFIG_TOML " defines [" t "] more than once (invalid TOML); fix it by hand")
    if (f_dotted) fail(CONFIG_TOML " sets the registry with dotted keys or an inline table; unsupported, set config_path = \"" CERTS_DIR "\" in [" t "] by hand")
    if (f_mirrors) fail(CONFIG_TOML " has registry mirrors under [" t ".mirrors]; containerd rejects mirrors together with config_path. Move them to hosts.toml files under " CERTS_DIR " and delete the mirrors entries")
    if (f_tls) fail(CONFIG_TOML " has [" t ".configs.*.tls]; containerd rejects configs.tls together with config_path. Move them to hosts.toml files")
    if (f_cpbad != "") fail(CONFIG_TOML " sets config_path = " f_cpbad " in [" t "]; containerd expects one directory as a string: set config_path = \"" CERTS_DIR "\" by hand")
    if (f_cp > 0) {
        if (chop_slash(f_cpval) == chop_slash(CERTS_DIR)) { report("unchanged", ""); exit }
        if (f_cpval != "" && in_path_list(CERTS_DIR, f_cpval)) {
            # 1.x CRI splits a : list; 2.x pulls through the transfer service, which takes the whole
            # string as one directory (containerd 2.2.9 internal/cri/server/images/image_pull.go).
            if (MAJOR < 2) { report("unchanged", ""); exit }
            warning[++warnings] = "config_path \"" f_cpval "\" is a list, which containerd " CTR "\047s CRI pull ignores; set to " CERTS_DIR
        } else if (f_cpval != "") {
            fail(CONFIG_TOML " already sets config_path = \"" f_cpval "\"; set the node certs directory to that path instead of " CERTS_DIR)
        }
        how = "replace"
    } else if (f_tables == 1) {
        how = "insert"
    } else {
        how = "append"
    }
    m = edit(t, how, first)
    analyze(N, m, t)
    if (!(f_tables <= 1 && f_cp == 1 && f_cpval == CERTS_DIR)) fail("internal error: edited " CONFIG_TOML " does not carry exactly one config_path")
    write_new(m)
}
