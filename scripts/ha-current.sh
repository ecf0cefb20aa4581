#!/bin/bash
# A current Home Assistant Core for the tests (make ha): it needs Python 3.13, which Debian 12 does
# not have, so it lives in a Debian 13 root made with mmdebstrap (HA in /opt/ha) and runs there
# with chroot; loopback is shared, so the tests reach it and it reaches their brokers.
#   scripts/ha-current.sh build ROOT VERSION [REQUIREMENT...]   the root and HA, once
#   scripts/ha-current.sh run ROOT COMMAND...                    COMMAND with SIAGA_HA_ROOT=ROOT
# /proc and /dev are mounted into the root only while a step runs, and always unmounted after
# (a root left with /dev bound in it must never meet `rm -rf`).
set -eu

HA_INTEGRATIONS="frontend mqtt onboarding http api config camera stream backup hardware recorder analytics"

usage() { echo "usage: $0 build ROOT VERSION [REQUIREMENT...] | run ROOT COMMAND..." >&2; exit 2; }
[ $# -ge 2 ] || usage
what=$1 root=$(realpath -m "$2")
shift 2

mount_root() {
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --rbind /dev "$root/dev"
}
unmount_root() {
    if mountpoint -q "$root/dev"; then umount -lR "$root/dev"; fi
    if mountpoint -q "$root/proc"; then umount -l "$root/proc"; fi
}

case "$what" in
build)
    [ $# -ge 1 ] || usage
    version=$1
    shift
    if [ ! -x "$root/usr/bin/python3.13" ]; then
        command -v mmdebstrap >/dev/null || apt-get install -y mmdebstrap
        [ ! -e "$root" ] || { echo "$root exists but has no python3.13: remove it first" >&2; exit 1; }
        mmdebstrap --variant=apt --include=python3,python3-venv,ca-certificates trixie "$root"
    fi
    trap unmount_root EXIT
    mount_root
    # A few of HA's dependencies (lru-dict) have no wheel for Python 3.13 at the pinned version.
    [ -x "$root/usr/bin/gcc" ] || { chroot "$root" apt-get update -q >/dev/null
        chroot "$root" apt-get install -y -q gcc python3-dev >/dev/null; }
    [ -x "$root/opt/ha/bin/python" ] || chroot "$root" python3 -m venv /opt/ha
    # HA's wheel carries the versions its own builds use (package_constraints.txt); without
    # them pip backtracks for an hour through its loosely pinned dependencies.
    chroot "$root" /opt/ha/bin/pip download -q --no-deps -d /tmp/ha-wheel "homeassistant==$version"
    chroot "$root" /opt/ha/bin/python -c 'import glob, sys, zipfile
wheel = glob.glob("/tmp/ha-wheel/homeassistant-*.whl")[0]
sys.stdout.write(zipfile.ZipFile(wheel).read("homeassistant/package_constraints.txt").decode())' \
        >"$root/tmp/ha-constraints.txt"
    chroot "$root" /opt/ha/bin/pip install -q --progress-bar off -c /tmp/ha-constraints.txt \
        "homeassistant==$version" "$@"
    # The tests start HA with --skip-pip: the requirements of the integrations it loads there
    # (tests/homeassistant_support.py's configuration, MQTT and its camera platform, and what
    # HA loads by itself) are installed now, as their manifests pin them.
    cp "$(dirname "$0")/../tests/ha_requirements.py" "$root/tmp/ha_requirements.py"
    # shellcheck disable=SC2046 # one word per requirement
    chroot "$root" /opt/ha/bin/pip install -q --progress-bar off -c /tmp/ha-constraints.txt \
        $(chroot "$root" /opt/ha/bin/python /tmp/ha_requirements.py $HA_INTEGRATIONS)
    ;;
run)
    [ $# -ge 1 ] || usage
    [ -x "$root/opt/ha/bin/hass" ] || { echo "$root has no Home Assistant: run make ha" >&2; exit 1; }
    trap unmount_root EXIT
    mount_root
    rm -rf "$root"/tmp/siaga-ha-*
    SIAGA_HA_ROOT="$root" "$@"
    ;;
*) usage ;;
esac
