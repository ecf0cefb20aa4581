#!/usr/bin/env bash
# make fresh-root: the README's promise tried for real. A minimal Debian 12 root (mmdebstrap
# --variant=apt, plus only git, make, python3, python3-venv and ca-certificates), a --depth 1
# clone of this checkout's HEAD in it, then the newcomer's two commands inside:
#   1. `make demo`: wait for its "Dashboard: http://..." line, fetch the page, Ctrl-C;
#   2. `CI=true bash .ci/run` (CI's command: `make test`); FRESH_PYTEST_ARGS="..." passes
#      PYTEST_ARGS to it (e.g. a sample of test files when the whole suite takes too long).
# As root (chroot, mounts). Prints the time of each step; exit status 0 only if both commands
# worked. FRESH_KEEP=1 keeps the root (its path is printed) for a look afterwards.
set -euo pipefail
{   # parsed whole before it runs: editing this file during a run cannot change the run

[ "$(id -u)" = 0 ] || { echo "make fresh-root needs root (mmdebstrap, chroot, mount)" >&2; exit 1; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
sh "$REPO/scripts/apt-need.sh" mmdebstrap
WORK=$(mktemp -d /var/tmp/siaga-fresh-XXXXXX)
ROOT=$WORK/root
SRC=/root/siaga
START=$(date +%s)
status=1

step() { echo "== $(( $(date +%s) - START )) s: $*"; }

# This machine's network may pass TLS through a proxy with its own CA: the root trusts what this
# machine trusts (its local CAs, and the variables pointing pip, node and git at the bundle) and
# uses its proxy, if any. Nothing else of this machine's environment goes in.
NETWORK=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_CERT \
        REQUESTS_CA_BUNDLE SSL_CERT_FILE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO; do
    [ -z "${!var:-}" ] || NETWORK+=("$var=${!var}")
done
ROOT_ENV=(/usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb "${NETWORK[@]}"
          PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
in_root() { chroot "$ROOT" "${ROOT_ENV[@]}" "$@"; }   # a login-like shell in the root

cleanup() {
    local pid
    # Whatever still runs inside the root (a test's server, the demo), stopped by its PID.
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" != "$ROOT" ] || kill -KILL "$pid" 2>/dev/null ||
            true
    done
    umount -lR "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" 2>/dev/null || true
    umount -lR "$ROOT" 2>/dev/null || true
    if [ -n "${FRESH_KEEP:-}" ]; then echo "The root is kept: $ROOT"; else rm -rf "$WORK"; fi
    step "done, exit status $status"
}
trap cleanup EXIT

step "mmdebstrap --variant=apt bookworm $ROOT"
mmdebstrap --quiet --variant=apt --include=git,make,python3,python3-venv,ca-certificates \
    bookworm "$ROOT" "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" </dev/null
# The root shares this machine's network: packages must not start their services in it (they
# would listen on this machine's ports); a fresh machine's running services change no test.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null
fi
# The root is a mount point of its own, private, as / is on a real machine: inside a plain
# chroot `unshare --mount` cannot make / private ("Invalid argument"), and the upsmon tests'
# private /run/nut (tests/test_upsmon.py) would silently fall back to the shared one.
mount --bind "$ROOT" "$ROOT"
mount --make-private "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"

step "git clone --depth 1 of $(git -C "$REPO" rev-parse --short HEAD) into the root"
git clone -q --depth 1 "file://$REPO" "$ROOT$SRC"

step "make demo"
setsid chroot "$ROOT" "${ROOT_ENV[@]}" make -C "$SRC" demo >"$WORK/demo.log" 2>&1 </dev/null &
demo=$!
url=""
for _ in $(seq 1 900); do   # apt and pip on a fresh root: up to 15 minutes
    url=$(grep -oE 'Dashboard: http://127\.0\.0\.1:[0-9]+' "$WORK/demo.log" | cut -d' ' -f2 || true)
    [ -n "$url" ] || ! kill -0 "$demo" 2>/dev/null && break
    sleep 1
done
page_ok=0
if [ -n "$url" ] && python3 -c 'import sys, urllib.request as u
page = u.urlopen(sys.argv[1] + "/sites/demo-rr1", timeout=10).read().decode()
sys.exit(0 if "Demo - Ruang Rapat 1" in page else 1)' "$url"; then page_ok=1; fi
kill -INT -- "-$demo" 2>/dev/null || true    # Ctrl-C in the demo's terminal
wait "$demo" || true
tail -n 25 "$WORK/demo.log"
if [ "$page_ok" = 1 ]; then step "make demo: the room page answered at $url"
else step "make demo FAILED (no page); the log: $WORK/demo.log"; FRESH_KEEP=1; exit 1; fi

step "CI=true bash .ci/run (make test ${FRESH_PYTEST_ARGS:+PYTEST_ARGS=\"$FRESH_PYTEST_ARGS\"})"
set +e
in_root CI=true PYTEST_ARGS="${FRESH_PYTEST_ARGS:-}" bash "$SRC/.ci/run" >"$WORK/test.log" 2>&1
[ $? = 0 ] && status=0
set -e
tail -n 40 "$WORK/test.log"
[ "$status" = 0 ] || { step "make test FAILED; the log: $WORK/test.log"; FRESH_KEEP=1; }
exit "$status"
}
