#!/bin/bash
# Install Siaga on a Raspberry Pi (Raspberry Pi OS bookworm / trixie), from this checkout.
# Idempotent: a second run changes nothing; existing configuration is never overwritten.
#
#   sudo scripts/install-pi.sh              install
#   scripts/install-pi.sh --dry-run         print every action, change nothing
#   scripts/install-pi.sh --root DIR        put the files under DIR (apt, users, chown and
#                                           systemctl are printed and skipped)
#   --no-venv                               skip the venv in /opt/siaga (tests; a venv you manage)
#   --restore FILE                          first put back a backup of scripts/backup.sh (a new
#                                           SD card): config, passwords, NUT, journal, database
#   --central HOST[:PORT]                   bridge this room's broker to a central broker over TLS
#                                           (port 8883 by default; docs/fleet.md)
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
DRY=0
VENV_STEP=1
RESTORE=""
CENTRAL=""
# Pango, HarfBuzz and a font: WeasyPrint writes the PDF of `siaga report` with them. passwd
# (useradd, groupadd, usermod) is on every Raspberry Pi OS but not on a minimal Debian 13.
APT_PACKAGES="nut-server nut-client mosquitto openssl python3-venv python3-lgpio libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core passwd"
UNITS="siaga-edge.service siaga-dashboard.service"
# Powers the Pi off when the edge writes NUT's POWERDOWNFLAG (after a real outage, the PCs first).
# The .service is only ever started by the .path: never enabled, started or restarted here.
POWEROFF_UNITS="siaga-poweroff.path siaga-poweroff.service"
# Siaga's own units go where systemd looks for local software's units; /etc/systemd/system is the
# admin's (a copy there, or `systemctl edit`'s drop-in, overrides ours and is never touched).
UNIT_DIR=/usr/local/lib/systemd/system
NUT_FILES="nut.conf ups.conf upsd.conf upsd.users upsmon.conf"
LISTEN="0.0.0.0:8080"   # dashboard.listen of a new /etc/siaga/siaga.toml: the office LAN
CA_DAYS=3650            # the LAN's local CA: 10 years (the PCs trust it; replacing it means every PC)
LEAF_DAYS=825           # the broker's certificate: re-issued by the installer, the PCs keep the CA
# md5 of every siaga.conf shipped before the TLS listener: such a file, unedited, is replaced.
# md5 of every upsmon.conf shipped while upsmon could shut the Pi down (its password put back as
# the placeholder): unedited, such a file lets upsmon believe FSD on mains and cut the room's
# power, so it is replaced; an edited one gets a note.
OLD_UPSMON_CONFS="5e6b41e822f6a6e85f0807c0b6258ec6"
OLD_MQTT_CONFS="40dfa46e411d3de0f78906da6eea80e1 92742b5b4dfd28a60105412c365faa0b"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --root) [ $# -ge 2 ] || usage 2; ROOT=$(realpath -m "$2"); shift ;;
        --no-venv) VENV_STEP=0 ;;
        --restore) [ $# -ge 2 ] || usage 2; RESTORE=$(realpath -m "$2"); shift ;;
        --central) [ $# -ge 2 ] || usage 2; CENTRAL="$2"; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install-pi.sh: unknown option $1" >&2; usage 2 ;;
    esac
    shift
done

if [ -n "$RESTORE" ] && ! tar -tzf "$RESTORE" 2>/dev/null | grep -qx './etc/siaga/siaga.toml'; then
    echo "install-pi.sh: --restore $RESTORE: not a backup made by scripts/backup.sh" \
         "(no etc/siaga/siaga.toml in it)" >&2
    exit 2
fi

if [ -z "$ROOT" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "install-pi.sh: run it as root (sudo), or try --dry-run / --root DIR" >&2
    exit 1
fi

CHANGED=0      # anything done in this run
NUT_CHANGED=0 MQTT_CHANGED=0 UNITS_CHANGED=0

# ---------------------------------------------------------------- how each action is carried out

say() { echo "$*"; }

# Every step asks `exists` about files, never `[ -e ]` itself: in a dry run it answers as the
# real run would at that point (files this run would have written or removed), so both runs take
# the same branches and print the same actions, line for line.
PLANNED_MADE="|" PLANNED_GONE="|"
exists() {
    case "$PLANNED_GONE" in *"|$1|"*) return 1 ;; esac
    case "$PLANNED_MADE" in *"|$1|"*) return 0 ;; esac
    [ -e "$1" ] || [ -L "$1" ]
}
# Where to read a file's content: in a dry run with --restore, the backup's copy (unpacked into
# a temporary directory) stands for the file the restore would have put there.
SHADOW=""
readable() {
    if [ -n "$SHADOW" ] && [ -e "$SHADOW${1#"$ROOT"}" ]; then echo "$SHADOW${1#"$ROOT"}"; else echo "$1"; fi
}
planned() {  # planned made|gone PATH: what the action just printed did (or would have done)
    [ "$DRY" = 1 ] || return 0
    if [ "$1" = made ]; then PLANNED_MADE="$PLANNED_MADE$2|"; PLANNED_GONE=${PLANNED_GONE//"|$2|"/|}
    else PLANNED_GONE="$PLANNED_GONE$2|"; PLANNED_MADE=${PLANNED_MADE//"|$2|"/|}; fi
}

# A change to files under $ROOT: printed, and done unless --dry-run.
do_file() {
    CHANGED=1
    if [ "$DRY" = 1 ]; then say "[dry-run] $*"; else say "+ $*"; "$@"; fi
}

# A change to the system itself (packages, users, services, owners): skipped under --root.
do_system() {
    if [ -n "$ROOT" ]; then say "[skip: --root] $*"; return; fi
    CHANGED=1
    if [ "$DRY" = 1 ]; then say "[dry-run] $*"; else say "+ $*"; "$@"; fi
}

# Write stdin to $1 (under ROOT) with mode $2, unless the file already has exactly that content.
put() {
    local dest="$ROOT$1" mode="$2" tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if exists "$dest" && [ -f "$(readable "$dest")" ] && cmp -s "$tmp" "$(readable "$dest")"; then
        say "ok: $1 is up to date"
    else
        CHANGED=1
        if [ "$DRY" = 1 ]; then say "[dry-run] write $dest (mode $mode)"
        else say "+ write $dest (mode $mode)"; install -D -m "$mode" "$tmp" "$dest"; fi
        planned made "$dest"
    fi
    rm -f "$tmp"
}

# Write stdin to $1 only when there is no such file yet (configuration belongs to the owner).
put_new() {
    if exists "$ROOT$1"; then say "ok: $1 exists, kept as it is"; cat >/dev/null; return 1; fi
    put "$@"
}

# True when $1 (under ROOT) is exactly what its Debian package shipped (nobody has edited it yet).
pristine() {
    exists "$ROOT$1" || return 1
    local sum pkgsum
    sum=$(md5sum "$(readable "$ROOT$1")" 2>/dev/null | cut -d' ' -f1) || return 1
    pkgsum=$(dpkg-query -W -f='${Conffiles}\n' 2>/dev/null | awk -v f="$1" '$1 == f {print $2}')
    [ -n "$sum" ] && [ "$sum" = "$pkgsum" ]
}

random_password() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24; }

# A secret file under /etc/siaga, created once with a random password.
secret() {
    if exists "$ROOT$1"; then say "ok: $1 exists, kept as it is"; return; fi
    put "$1" 0640 < <(random_password)  # not a pipe: put must run in this shell (its state)
}

# The secret's value; a placeholder in a dry run where the file is not made.
secret_value() {
    local file; file=$(readable "$ROOT$1")
    if [ -e "$file" ]; then head -n1 "$file"; else echo "RANDOM"; fi
}

owner() {  # owner USER:GROUP FILE... (only for files that exist)
    local who="$1"; shift
    for f in "$@"; do
        exists "$ROOT$f" || continue
        [ "$(stat -c %U:%G "$(readable "$ROOT$f")" 2>/dev/null)" = "$who" ] && continue
        do_system chown "$who" "$ROOT$f"
    done
}

# ---------------------------------------------------------------------------------- the steps

step_packages() {
    say "== Debian packages"
    local missing=""
    for pkg in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $pkg"
    done
    if [ -z "$missing" ]; then say "ok: $APT_PACKAGES installed"; return; fi
    if [ -z "$ROOT" ] && ! apt-cache show python3-lgpio >/dev/null 2>&1; then
        say "note: python3-lgpio is not in this system's repositories (not Raspberry Pi OS?);" \
            "pip installs lgpio into the venv instead"
        missing=$(echo "$missing" | sed 's/ python3-lgpio//')
        LGPIO_FROM_PIP=1
    fi
    [ -n "$missing" ] || return 0
    do_system apt-get update -q
    do_system env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

step_user() {
    say "== user siaga (group gpio)"
    if getent group gpio >/dev/null; then say "ok: group gpio exists"
    else do_system groupadd --system gpio; fi
    if id siaga >/dev/null 2>&1; then say "ok: user siaga exists"
    else do_system useradd --system --user-group --home-dir /var/lib/siaga --no-create-home \
        --shell /usr/sbin/nologin siaga; fi
    if id -nG siaga 2>/dev/null | tr ' ' '\n' | grep -qx gpio; then say "ok: siaga is in group gpio"
    else do_system usermod -a -G gpio siaga; fi
    if exists "$ROOT/var/lib/siaga"; then say "ok: /var/lib/siaga exists"
    else do_file install -d -m 0750 "$ROOT/var/lib/siaga"; planned made "$ROOT/var/lib/siaga"; fi
    owner siaga:siaga /var/lib/siaga
}

source_hash() {
    (cd "$REPO" && find pyproject.toml edge dashboard -type f \( -name '*.py' -o -name '*.toml' \
        -o -name '*.html' -o -path '*/static/*' \) ! -path '*/__pycache__/*' -print0 |
        sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Put a backup's files in place before the steps below, which then keep them (they never
# overwrite a file that is there) and restart every service so that the restored files count.
step_restore() {
    [ -n "$RESTORE" ] || return 0
    say "== restore $RESTORE"
    do_file tar -xzf "$RESTORE" -C "$ROOT/"
    if [ "$DRY" = 1 ]; then
        SHADOW=$(mktemp -d)
        trap 'rm -rf "$SHADOW"' EXIT
        tar -xzf "$RESTORE" -C "$SHADOW/"
    fi
    local path
    while read -r path; do planned made "$ROOT${path#.}"; done < <(tar -tzf "$RESTORE" | sed 's:/$::')
    NUT_CHANGED=1 MQTT_CHANGED=1 UNITS_CHANGED=1
}

step_venv() {
    say "== Python venv /opt/siaga/venv"
    if [ "$VENV_STEP" = 0 ]; then say "skip: --no-venv"; return; fi
    local venv="$ROOT/opt/siaga/venv" want
    if exists "$venv/bin/python"; then say "ok: $venv exists"
    else do_file python3 -m venv --system-site-packages "$venv"; planned made "$venv/bin/python"; fi
    want=$(source_hash)
    if [ "$(cat "$venv/.siaga-source" 2>/dev/null)" = "$want" ]; then
        say "ok: siaga from $REPO is installed in the venv"
    else
        do_file "$venv/bin/pip" install -q --upgrade pip
        do_file "$venv/bin/pip" install -q "$REPO[pi]"
        [ "${LGPIO_FROM_PIP:-0}" = 0 ] || lgpio_from_pip "$venv"
        [ "$DRY" = 1 ] || echo "$want" >"$venv/.siaga-source"
        UNITS_CHANGED=1   # new code: restart the services below
    fi
    if exists "$ROOT/usr/local/bin/siaga"; then say "ok: /usr/local/bin/siaga exists"
    else
        exists "$ROOT/usr/local/bin" ||
            { do_file mkdir -p "$ROOT/usr/local/bin"; planned made "$ROOT/usr/local/bin"; }
        do_file ln -s /opt/siaga/venv/bin/siaga "$ROOT/usr/local/bin/siaga"
        planned made "$ROOT/usr/local/bin/siaga"
    fi
}

# lgpio from the package index where apt has no python3-lgpio (Debian without the Pi's
# repository). Only a wheel: its source needs swig and the lgpio C library, and 0.0.0.2, the one
# release with a wheel for every Python, is an empty placeholder. The wheels are for Python
# 3.9-3.12; without one gpiozero falls back to its native pin factory (Pi 1-4, not a Pi 5).
lgpio_from_pip() {
    do_file "$1/bin/pip" install -q --only-binary=lgpio "lgpio>=0.2" && return 0
    say "note: no lgpio wheel for this Python ($(python3 -V 2>&1)): gpiozero uses its native pin" \
        "factory (Raspberry Pi 1-4; a Pi 5 needs lgpio: Raspberry Pi OS has python3-lgpio)"
}

step_siaga_config() {
    say "== /etc/siaga"
    # The Pi's status page is for IT on the office LAN (reading needs no login; the buttons need
    # dashboard.admin_password_hash): the installed file listens on every interface.
    # Commands to the PCs are signed with the keys step_command_keys makes (docs/security.md).
    # The edge, not upsmon, decides when the Pi powers off and the UPS cuts its outlets
    # (powerdown_flag = upsmon.conf's POWERDOWNFLAG; siaga-poweroff.path acts on it).
    put_new /etc/siaga/siaga.toml 0640 < <(sed -e 's/^listen = "127\.0\.0\.1:8080"/listen = "'"$LISTEN"'"/' \
        -e 's/^# keys_dir = "keys"/keys_dir = "keys"/' \
        -e 's|^# powerdown_flag = |powerdown_flag = |' "$REPO/firmware_config/siaga/siaga.toml") || true
    local conf; conf=$(readable "$ROOT/etc/siaga/siaga.toml")
    [ ! -f "$conf" ] || grep -q '^powerdown_flag' "$conf" ||
        say "note: /etc/siaga/siaga.toml has no edge.powerdown_flag: the Pi is never powered off" \
            "after an outage; add powerdown_flag = \"/run/siaga/killpower\" under [edge]"
    secret /etc/siaga/mqtt.password
    secret /etc/siaga/nut.password
    secret /etc/siaga/upsmon.password
    owner root:siaga /etc/siaga/siaga.toml /etc/siaga/mqtt.password /etc/siaga/nut.password
}

step_nut() {
    say "== NUT (/etc/nut)"
    local nut_pw upsmon_pw f
    nut_pw=$(secret_value /etc/siaga/nut.password)
    upsmon_pw=$(secret_value /etc/siaga/upsmon.password)
    if old_upsmon "$upsmon_pw"; then
        say "note: /etc/nut/upsmon.conf is an earlier Siaga's, unedited: replaced (upsmon only" \
            "watches; Siaga powers the Pi off after a real outage)"
        do_file rm "$ROOT/etc/nut/upsmon.conf"
        planned gone "$ROOT/etc/nut/upsmon.conf"
    fi
    for f in $NUT_FILES; do
        if pristine "/etc/nut/$f"; then
            say "note: /etc/nut/$f is the package's unedited sample: replaced (saved as $f.dist)"
            do_file cp -p "$ROOT/etc/nut/$f" "$ROOT/etc/nut/$f.dist"
            planned made "$ROOT/etc/nut/$f.dist"
            do_file rm "$ROOT/etc/nut/$f"
            planned gone "$ROOT/etc/nut/$f"
        fi
        if exists "$ROOT/etc/nut/$f"; then
            say "ok: /etc/nut/$f exists, kept as it is (Siaga's example: firmware_config/nut/$f)"
            [ "$f" != upsmon.conf ] || upsmon_advice "$ROOT/etc/nut/$f"
            continue
        fi
        put "/etc/nut/$f" 0640 < <(sed -e "s/CHANGE-ME-siaga/$nut_pw/" \
            -e "s/CHANGE-ME-upsmon/$upsmon_pw/" "$REPO/firmware_config/nut/$f")
        NUT_CHANGED=1
        owner root:nut "/etc/nut/$f"
    done
}

# True when /etc/nut/upsmon.conf is one an earlier Siaga wrote and nobody edited ($1: its password).
old_upsmon() {
    local file; file=$(readable "$ROOT/etc/nut/upsmon.conf")
    exists "$ROOT/etc/nut/upsmon.conf" && [ -f "$file" ] || return 1
    [[ " $OLD_UPSMON_CONFS " == *" $(sed "s/$1/CHANGE-ME-upsmon/" "$file" | md5sum | cut -d' ' -f1) "* ]]
}

# An admin's own upsmon.conf that lets upsmon shut the Pi down is kept; say what to change.
upsmon_advice() {
    grep -Eqs '^[[:space:]]*MONITOR[[:space:]]+[^[:space:]]+[[:space:]]+[1-9]' "$(readable "$1")" || return 0
    say "note: ${1#"$ROOT"} lets upsmon shut this Pi down: it believes a UPS that says FSD on mains"
    say "  and the UPS would then cut the room's power. Set the MONITOR power value to 0,"
    say "  MINSUPPLIES 0 and POWERDOWNFLAG /run/siaga/killpower ($REPO/firmware_config/nut/upsmon.conf)."
}

step_mosquitto() {
    say "== mosquitto (/etc/mosquitto)"
    local conf=/etc/mosquitto/conf.d/siaga.conf
    if exists "$ROOT$conf" &&
        [[ " $OLD_MQTT_CONFS " == *" $(md5sum <"$(readable "$ROOT$conf")" | cut -d' ' -f1) "* ]]; then
        say "note: $conf is an earlier version's, unedited: replaced (LAN over TLS on 8883)"
        do_file rm "$ROOT$conf"
        planned gone "$ROOT$conf"
    fi
    if put_new "$conf" 0644 <"$REPO/firmware_config/mosquitto/siaga.conf"; then MQTT_CHANGED=1
    else tls_advice "$ROOT$conf"; fi
    if put_new /etc/mosquitto/siaga.acl 0644 <"$REPO/firmware_config/mosquitto/siaga.acl"; then
        MQTT_CHANGED=1
    else acl_advice /etc/mosquitto/siaga.acl; fi
    mqtt_user siaga-edge /etc/siaga/mqtt.password
    local pc
    for pc in $(expected_pcs); do
        secret "/etc/siaga/pc-$pc.password"
        mqtt_user "$pc" "/etc/siaga/pc-$pc.password"
    done
    owner mosquitto:mosquitto /etc/mosquitto/siaga.passwd
}

# A kept siaga.acl (installed by an earlier version, or edited) lacking a `pattern` line this
# version ships: the line, and what it is for is in the shipped file; say what to add.
acl_advice() {
    local file line missing=0; file=$(readable "$ROOT$1")
    while IFS= read -r line; do
        [[ $line == pattern\ * ]] || continue
        grep -qsxF "$line" "$file" && continue
        [ "$missing" = 1 ] || say "note: $1 is kept; add these lines from $REPO/firmware_config/mosquitto/siaga.acl, then: sudo systemctl restart mosquitto"
        say "  $line"
        missing=1
    done <"$REPO/firmware_config/mosquitto/siaga.acl"
}

# An admin's own siaga.conf without the TLS listener is kept; say what to change.
tls_advice() {
    local file; file=$(readable "$1")
    grep -qs '^certfile /etc/siaga/siaga-broker.crt' "$file" && return 0
    say "note: ${1#"$ROOT"} is your own and kept; for TLS on the LAN change in it"
    say "  'listener 1883' to 'listener 1883 127.0.0.1' and add these three lines:"
    say "  listener 8883 / certfile /etc/siaga/siaga-broker.crt / keyfile /etc/siaga/siaga-broker.key"
    say "  (as in $REPO/firmware_config/mosquitto/siaga.conf), then: sudo systemctl restart mosquitto"
}

# The broker certificate's subjectAltName: this Pi's host name, <host name>.local (mDNS, which
# Raspberry Pi OS answers), its LAN addresses now, and loopback.
broker_names() {
    local host ip san
    host=$(hostname -s 2>/dev/null || hostname)
    san="DNS:$host,DNS:$host.local,DNS:localhost,IP:127.0.0.1"
    for ip in $(hostname -I 2>/dev/null); do san="$san,IP:$ip"; done
    echo "$san"
}

make_ca() {  # make_ca DIR: the LAN's CA, key mode 0600 (it never leaves DIR)
    local out
    install -d -m 0755 "$1"
    out=$(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/siaga-ca.key" -out "$1/siaga-ca.crt" -days "$CA_DAYS" \
        -subj "/CN=Siaga CA $(hostname -s 2>/dev/null || hostname)" 2>&1) ||
        { echo "install-pi.sh: openssl could not make the CA in $1: $out" >&2; return 1; }
    chmod 0644 "$1/siaga-ca.crt"
}

make_broker_cert() {  # make_broker_cert DIR SAN: the broker's key (0640) and certificate
    local csr ext out
    csr=$(mktemp) ext=$(mktemp)
    printf '%s\n' "subjectAltName=$2" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$ext"
    out=$(umask 027 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/siaga-broker.key" -out "$csr" -subj "/CN=$(hostname -s 2>/dev/null || hostname)" \
        2>&1 && openssl x509 -req -in "$csr" -CA "$1/siaga-ca.crt" -CAkey "$1/siaga-ca.key" \
            -set_serial "0x$(openssl rand -hex 16)" -days "$LEAF_DAYS" -extfile "$ext" \
            -out "$1/siaga-broker.crt" 2>&1) ||
        { rm -f "$csr" "$ext"; echo "install-pi.sh: openssl could not make the broker's certificate: $out" >&2
          return 1; }
    rm -f "$csr" "$ext"
    chmod 0640 "$1/siaga-broker.key"   # openssl writes 0600; group mosquitto reads it (owner below)
    chmod 0644 "$1/siaga-broker.crt"
}

# Say so when an address of this Pi now is not in the kept certificate (a new DHCP lease).
missing_addresses() {
    local crt names ip
    crt=$(readable "$1")
    [ -e "$crt" ] || return 0
    names=$(openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | tr -d ' ' | tr ',' '\n')
    for ip in $(hostname -I 2>/dev/null); do
        [[ "$ip" == *:* ]] && continue    # openssl spells IPv6 out in full: compare IPv4 only
        grep -qx "IPAddress:$ip" <<<"$names" ||
            say "note: this Pi's address $ip is not in /etc/siaga/siaga-broker.crt: PCs that use it" \
                "are refused; re-issue it: sudo rm /etc/siaga/siaga-broker.crt; sudo $0"
    done
}

# TLS on the LAN: a local CA and the broker's certificate, made once and kept. Everything stays in
# /etc/siaga (backup.sh saves it: a restored Pi keeps the CA its PCs already trust).
step_tls() {
    say "== TLS for the LAN (/etc/siaga/siaga-ca.crt, the broker's certificate)"
    local etc="$ROOT/etc/siaga" new_ca=0
    if exists "$etc/siaga-ca.key" && exists "$etc/siaga-ca.crt"; then
        say "ok: /etc/siaga/siaga-ca.key exists, kept as it is"
    else
        do_file make_ca "$etc"
        planned made "$etc/siaga-ca.key"; planned made "$etc/siaga-ca.crt"
        new_ca=1
    fi
    if [ "$new_ca" = 0 ] && exists "$etc/siaga-broker.crt" && exists "$etc/siaga-broker.key"; then
        say "ok: /etc/siaga/siaga-broker.crt exists, kept as it is"
        missing_addresses "$etc/siaga-broker.crt"
    else
        do_file make_broker_cert "$etc" "$(broker_names)"
        planned made "$etc/siaga-broker.key"; planned made "$etc/siaga-broker.crt"
        MQTT_CHANGED=1
    fi
    owner root:mosquitto /etc/siaga/siaga-broker.key
    say "note: the PCs' agents reach the broker on port 8883 over TLS and trust /etc/siaga/siaga-ca.crt"
}

# The pc ids of /etc/siaga/siaga.toml's edge.pcs (the example's when it is not there yet).
expected_pcs() {
    local conf; conf=$(readable "$ROOT/etc/siaga/siaga.toml")
    [ -e "$conf" ] || conf="$REPO/firmware_config/siaga/siaga.toml"  # a dry run: what it writes
    python3 -c 'import sys, tomllib
try:
    edge = tomllib.load(open(sys.argv[1], "rb")).get("edge", {})
except (OSError, tomllib.TOMLDecodeError) as exc:
    sys.exit(f"note: {sys.argv[1]}: {exc}; no broker users made for its PCs (fix it, run again)")
pcs = edge.get("pcs", ["meeting-pc"]) if isinstance(edge, dict) else []
pcs = pcs if isinstance(pcs, list) else []
print(" ".join(p for p in pcs if isinstance(p, str) and p.replace("-", "").isalnum()))' "$conf"
}

mqtt_user() {  # mqtt_user NAME PASSWORD_FILE: add NAME to the broker's password file once
    local file="$ROOT/etc/mosquitto/siaga.passwd"
    if grep -q "^$1:" "$(readable "$file")" 2>/dev/null; then say "ok: broker user $1 exists"; return; fi
    if ! command -v mosquitto_passwd >/dev/null; then
        say "[skip: mosquitto_passwd not installed] add broker user $1"; return
    fi
    do_file add_broker_user "$file" "$1" "$ROOT$2"
    planned made "$file"
    MQTT_CHANGED=1
}

add_broker_user() {  # add_broker_user PASSWD_FILE NAME SECRET_FILE (the secret is never printed)
    [ -e "$1" ] || install -D -m 0600 /dev/null "$1"
    mosquitto_passwd -b "$1" "$2" "$(head -n1 "$3")"
}

# --central HOST: firmware_config/mosquitto/siaga-bridge.conf with this room's site id, HOST and a
# random password of its own (/etc/siaga/bridge.password), written once like any config file.
step_bridge() {
    say "== bridge to the central broker $CENTRAL"
    local conf="$ROOT/etc/siaga/siaga.toml" site address bridge_pw
    [ -e "$conf" ] || conf="$REPO/firmware_config/siaga/siaga.toml"
    site=$(python3 -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb")).get("site", {}).get("id", ""))' "$conf" 2>/dev/null) || site=""
    if ! [[ "$site" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]]; then
        say "note: no valid site.id in $conf; bridge not written (set site.id, run again)"; return
    fi
    address="$CENTRAL"; [[ "$address" == *:* ]] || address="$address:8883"
    secret /etc/siaga/bridge.password
    bridge_pw=$(secret_value /etc/siaga/bridge.password)
    # < <(...), not a pipe: put_new must run in this shell, or what it records is lost (dry run)
    put_new /etc/mosquitto/conf.d/siaga-bridge.conf 0640 < <(sed -e "s/bappeda-rr1/$site/g" \
        -e "s/^address .*/address $address/" \
        -e "s/^remote_password CHANGE-ME/remote_password $bridge_pw/" \
        "$REPO/firmware_config/mosquitto/siaga-bridge.conf") && MQTT_CHANGED=1
    bridge_homeassistant "$site"
    owner root:mosquitto /etc/mosquitto/conf.d/siaga-bridge.conf
    [ -e "$ROOT/etc/mosquitto/certs/central-ca.crt" ] ||
        say "note: put the CA of the central broker's certificate in /etc/mosquitto/certs/central-ca.crt"
    say "note: on the central broker add user $site with the password in /etc/siaga/bridge.password"
}

# A bridge written before it forwarded Home Assistant's discovery (CONTRACT §6.4) is kept as its
# owner left it, but gets the two lines without which HA on the central broker sees no room.
bridge_homeassistant() {
    local f="$ROOT/etc/mosquitto/conf.d/siaga-bridge.conf"
    exists "$f" && [ -f "$(readable "$f")" ] || return 0
    grep -q '^topic homeassistant/' "$(readable "$f")" && return 0
    do_file append_bridge_homeassistant "$f" "$1" && MQTT_CHANGED=1
}
append_bridge_homeassistant() {  # append_bridge_homeassistant FILE SITE
    printf '%s\n' "" "# Home Assistant on the central broker: this room's discovery configs go up, its" \
        "# birth message comes down (added by install-pi.sh)." \
        "topic homeassistant/+/siaga_$2/+/config out 1" "topic homeassistant/status in 1" >>"$1"
}

# Per-PC command keys (CONTRACT §5.9): /etc/siaga/keys/<pc_id>.key, made once, never printed.
# The edge signs each PC's commands with its key; the PC's agent, given the same key in
# agent.command_key_file, obeys only those: one PC's stolen broker password cannot shut another
# PC down or fake a cancel.
command_key() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 48; echo; }   # ~285 bits

step_command_keys() {
    say "== command keys (/etc/siaga/keys)"
    local pc
    for pc in $(expected_pcs); do
        put_new "/etc/siaga/keys/$pc.key" 0640 < <(command_key) || true
        owner root:siaga "/etc/siaga/keys/$pc.key"
    done
    say "note: copy each /etc/siaga/keys/<pc_id>.key to its PC as agent.command_key_file (docs/security.md)"
}

# How the units are handled: "root" (--root: every systemctl printed and skipped), "running"
# (enabled and started now), "offline" (systemctl but no running systemd: a chroot, a container,
# an SD card image being built; enabled only, they start at the next boot), "absent" (no
# systemctl: the units are only put in place). /run/systemd/system exists only while systemd
# runs. Asked here, after the packages (they may bring systemctl).
systemd_state() {
    if [ -n "$ROOT" ]; then echo root
    elif ! command -v systemctl >/dev/null; then echo absent
    elif [ -d /run/systemd/system ]; then echo running
    else echo offline; fi
}

step_units() {
    say "== systemd units"
    local SYSTEMD; SYSTEMD=$(systemd_state)
    local unit
    for unit in $UNITS $POWEROFF_UNITS; do
        if [ ! -f "$REPO/systemd/$unit" ]; then say "note: $REPO/systemd/$unit missing, skipped"; continue; fi
        local before=$CHANGED
        put "$UNIT_DIR/$unit" 0644 <"$REPO/systemd/$unit"
        [ "$CHANGED" = "$before" ] || UNITS_CHANGED=1
        if [ -e "$ROOT/etc/systemd/system/$unit" ]; then
            say "note: /etc/systemd/system/$unit overrides Siaga's $UNIT_DIR/$unit; kept as it is"
        fi
    done
    case "$SYSTEMD" in
    absent)
        say "note: this system has no systemctl: the units are in $UNIT_DIR, not enabled or" \
            "started (start what their ExecStart says yourself)"
        return ;;
    offline)
        say "note: systemd is not running here (a chroot or a container?): the units are" \
            "enabled, not started; they start at the next boot" ;;
    esac
    [ "$UNITS_CHANGED" = 0 ] || [ "$SYSTEMD" = offline ] || do_system systemctl daemon-reload
    local enable="nut.target nut-driver.target nut-server.service nut-monitor.service mosquitto.service $UNITS siaga-poweroff.path"
    local u
    for u in $enable; do
        if [ -z "$ROOT" ] && systemctl is-enabled --quiet "$u" 2>/dev/null; then say "ok: $u enabled"
        else do_system systemctl enable "$u"; fi
    done
    [ "$SYSTEMD" != offline ] || return 0
    [ "$NUT_CHANGED" = 0 ] || do_system systemctl restart nut-driver-enumerator.service nut-server.service nut-monitor.service
    [ "$MQTT_CHANGED" = 0 ] || do_system systemctl restart mosquitto.service
    [ "$UNITS_CHANGED" = 0 ] || do_system systemctl restart $UNITS
    for u in $UNITS siaga-poweroff.path; do
        if [ -z "$ROOT" ] && systemctl is-active --quiet "$u" 2>/dev/null; then continue; fi
        do_system systemctl start "$u"
    done
}

step_packages
step_user
step_restore
step_venv
step_siaga_config
step_nut
step_tls
step_mosquitto
[ -z "$CENTRAL" ] || step_bridge
step_command_keys
step_units

if [ "$CHANGED" = 0 ]; then
    say "Nothing to do: Siaga is installed."
else
    say ""
    say "Next: edit /etc/siaga/siaga.toml (site.id, site.name), then: sudo siaga check"
    say "and: sudo systemctl restart siaga-edge siaga-dashboard (after every edit of siaga.toml)."
    say "The status page: http://<this Pi's address>:${LISTEN##*:}/ from the office LAN."
    say "Each meeting PC's agent logs in to this Pi's broker with its pc_id as user name and the"
    say "password in /etc/siaga/pc-<pc_id>.password (see docs/agent.md), over TLS: in agent.toml"
    say "tls = true, port = 8883, ca_file = \"siaga-ca.crt\", a copy of /etc/siaga/siaga-ca.crt"
    say "(e.g. scp <user>@<this Pi's address>:/etc/siaga/siaga-ca.crt .; docs/security.md)."
fi
