#!/usr/bin/env bash
# The system packages the build, the tests, the demo and the benchmarks need: one list, in one
# place. Whether a package is present is asked of dpkg, package by package, never guessed from a
# file that another package could have put there (llvm-14 ships libclang-cpp.so.14, which is not
# the libclang.so bindgen loads).
#
#   scripts/deps.sh install          install every package of the list that dpkg lacks
#   scripts/deps.sh missing [PKG…]   print the packages (of the list, or the ones named) dpkg lacks
#   scripts/deps.sh list             print the list with the reason for each package
#   scripts/deps.sh doctor           check that what those packages provide works (versions)
set -euo pipefail

# package | why it is needed
PACKAGES=(
    "redis-server|the Redis server the module loads into: demo, end-to-end tests, benchmarks"
    "redis-tools|redis-cli (demo, scripts) and redis-benchmark (make bench)"
    "libclang-dev|libclang.so for bindgen, which the redis-module crate's build script runs"
    "chromium|the headless browser of the dashboard tests and benchmark (playwright-core drives it)"
    "wrk|the HTTP load generator of the web benchmark"
    "curl|the demo waits for the simulator and the web server with it"
    "openssl|makes the certificates of the TLS tests"
    "nodejs|node runs npm ci for the dashboard's packages, the browser tests and node --test"
)

names() { for p in "${PACKAGES[@]}"; do echo "${p%%|*}"; done; }

# True when dpkg has PKG fully installed ("install ok installed").
installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# npm is in the nodejs package of NodeSource and in a package of its own on Debian. Ask dpkg
# which package owns the npm on PATH; only a Debian nodejs without it needs the npm package.
npm_package_needed() {
    local npm
    npm=$(command -v npm 2>/dev/null) || return 0
    dpkg-query -S "$(readlink -f "$npm")" >/dev/null 2>&1 && return 1
    dpkg-query -S "$npm" >/dev/null 2>&1 && return 1
    return 0
}

missing() {
    local wanted=("$@") out=()
    if [ ${#wanted[@]} -eq 0 ]; then
        mapfile -t wanted < <(names)
        if npm_package_needed; then wanted+=(npm); fi
    fi
    for p in "${wanted[@]}"; do installed "$p" || out+=("$p"); done
    if [ ${#out[@]} -gt 0 ]; then echo "${out[*]}"; fi
}

sudo_cmd() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
    local todo
    todo=$(missing)
    if [ -z "$todo" ]; then return 0; fi
    echo "make deps: installing $todo"
    sudo_cmd apt-get update -qq
    # shellcheck disable=SC2086
    sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $todo >/dev/null
    todo=$(missing)
    if [ -n "$todo" ]; then
        echo "make deps: still missing after apt-get install: $todo" >&2
        exit 1
    fi
}

# "major.minor" of the first version-looking word of a command's output, as "major minor".
version_of() { grep -oE '[0-9]+\.[0-9]+' | head -1 | tr . ' '; }

# Checks what the listed packages provide, the way the build and the tests use it.
doctor() {
    local bad=0
    check() { # name, ok?, detail
        if [ "$2" = ok ]; then printf '  ok    %-14s %s\n' "$1" "$3"; else
            printf '  FAIL  %-14s %s\n' "$1" "$3"; bad=1; fi
    }
    echo "make doctor:"
    local pkgs
    pkgs=$(missing)
    if [ -z "$pkgs" ]; then check packages ok "every package of scripts/deps.sh is installed"; else
        check packages fail "not installed: $pkgs (make deps)"; fi
    # bindgen loads libclang.so (or libclang-N.so) from llvm-config's libdir or the linker path.
    local libclang
    libclang=$(ls /usr/lib/llvm-*/lib/libclang.so /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
        /usr/lib/*-linux-gnu/libclang.so /usr/lib/*-linux-gnu/libclang-[0-9]*.so* 2>/dev/null | head -1 || true)
    if [ -n "$libclang" ]; then check libclang ok "$libclang"; else
        check libclang fail "no libclang.so for bindgen (package libclang-dev)"; fi
    local v
    if command -v redis-server >/dev/null; then
        read -r maj min < <(redis-server --version | grep -oE 'v=[0-9]+\.[0-9]+' | tr -d v= | tr . ' ')
        if [ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 2 ]; }; then
            check redis-server ok "$maj.$min"; else check redis-server fail "$maj.$min is older than 6.2"; fi
    else check redis-server fail "not on PATH (package redis-server)"; fi
    for tool in redis-cli redis-benchmark wrk curl openssl npm; do
        if command -v "$tool" >/dev/null; then check "$tool" ok "$(command -v "$tool")"; else
            check "$tool" fail "not on PATH"; fi
    done
    if command -v node >/dev/null; then
        read -r maj _ < <(node --version | version_of)
        if [ "$maj" -ge 18 ]; then check node ok "$(node --version)"; else
            check node fail "$(node --version) is older than 18"; fi
    else check node fail "not on PATH (package nodejs)"; fi
    local chromium=${CHROMIUM:-/usr/bin/chromium}
    if [ -x "$chromium" ] && v=$("$chromium" --headless --no-sandbox --version 2>/dev/null); then
        check chromium ok "$v"; else check chromium fail "$chromium does not run (package chromium)"; fi
    return $bad
}

case "${1:-}" in
install) install ;;
missing) shift; missing "$@" ;;
list) for p in "${PACKAGES[@]}"; do printf '%-14s %s\n' "${p%%|*}" "${p#*|}"; done ;;
doctor) doctor ;;
*) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
