#!/bin/bash
# Back up a Siaga Pi into one .tar.gz: /etc/siaga (config and passwords), Siaga's NUT and
# mosquitto files, and consistent copies of the journal and the dashboard database (SQLite's
# backup API: a cp of a live WAL database can miss or tear what was written last).
#
#   sudo scripts/backup.sh [-o FILE]      default FILE: siaga-backup-<host>-<date>.tar.gz
#   scripts/backup.sh --root DIR [-o FILE]  back up the files under DIR instead of /
# Restore on a new SD card: sudo scripts/install-pi.sh --restore FILE (see docs/upgrade.md).
set -eu

ROOT=""
OUT="siaga-backup-$(hostname -s)-$(date +%Y%m%d-%H%M).tar.gz"
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        -o) [ $# -ge 2 ] || usage 2; OUT="$2"; shift ;;
        --root) [ $# -ge 2 ] || usage 2; ROOT=$(realpath -m "$2"); shift ;;
        -h|--help) usage 0 ;;
        *) echo "backup.sh: unknown option $1" >&2; usage 2 ;;
    esac
    shift
done
CONF="$ROOT/etc/siaga/siaga.toml"
if [ ! -f "$CONF" ]; then
    echo "backup.sh: $CONF not found: is Siaga installed here?" >&2
    exit 1
fi
OUT=$(realpath -m "$OUT")
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

for path in /etc/siaga /etc/nut /etc/mosquitto/conf.d/siaga.conf /etc/mosquitto/siaga.acl \
            /etc/mosquitto/siaga.passwd; do
    [ -e "$ROOT$path" ] || continue
    mkdir -p "$STAGE$(dirname "$path")"
    cp -a "$ROOT$path" "$STAGE$path"
    echo "saved $path"
done

# The databases named in siaga.toml (edge.journal, dashboard.database), each copied with
# SQLite's online backup: a consistent snapshot even while siaga-edge writes to it.
python3 - "$ROOT" "$CONF" "$STAGE" <<'PY'
import os, shutil, sqlite3, sys, tomllib
root, conf, stage = sys.argv[1:]
try:
    data = tomllib.load(open(conf, "rb"))
except (OSError, tomllib.TOMLDecodeError) as exc:
    sys.exit(f"backup.sh: {conf}: {exc}")
wanted = [data.get("edge", {}).get("journal", "/var/lib/siaga/journal.sqlite3"),
          data.get("dashboard", {}).get("database", "/var/lib/siaga/dashboard.sqlite3")]
for path in wanted:
    if not isinstance(path, str) or not os.path.isabs(path):
        print(f"note: {path!r} is not an absolute path; not backed up")
        continue
    if not os.path.exists(root + path):
        continue
    target = stage + path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    source, copy = sqlite3.connect(root + path), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    shutil.copystat(root + path, target)
    stat = os.stat(root + path)
    os.chown(target, stat.st_uid, stat.st_gid)
    print(f"saved {path} (SQLite backup)")
PY

tar -czf "$OUT" -C "$STAGE" .
chmod 0600 "$OUT"   # it holds every password of this Pi
echo "Backup written: $OUT (keep it off the Pi; it holds the Pi's passwords)"
