#!/usr/bin/env bash
# `make doctor`: checks that what the packages of the Makefile's DEPS provide works the way the
# build, the tests and the benchmarks use it (libclang for bindgen, redis-server >= 6.2, node
# >= 18, a Chromium that starts, wrk, redis-benchmark). Which packages are installed is asked of
# dpkg by the Makefile (`make deps-missing`); this checks the tools themselves.
set -euo pipefail

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

doctor
