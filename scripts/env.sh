# Source this file (`. scripts/env.sh`) to use the tools scripts/setup prepared, with nothing reaching the internet:
# the per-clone .tools/bin first on PATH, PULUMI_HOME in the tool cache, a local file backend by default.
_hc_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export HARBOR_CACHE_ROOT="$_hc_root"
export HARBOR_CACHE_TOOLS="${HARBOR_CACHE_TOOLS:-$HOME/.cache/harbor-cache-tools}"
export PATH="$_hc_root/.tools/bin:$_hc_root/.venv/bin:$PATH"
export PULUMI_HOME="${PULUMI_HOME:-$HARBOR_CACHE_TOOLS/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_hc_root/.state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
mkdir -p "$_hc_root/.state" 2>/dev/null || true
unset _hc_root
