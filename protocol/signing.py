"""Signed PC commands (CONTRACT §5.9): an HMAC that only the edge and one PC can make.

The broker's passwords are per PC, but the broker lets a client publish on every PC's command
topic its ACL allows; a stolen password of one PC must not shut another PC down or fake a
cancel. So each PC has its own key, kept on the Pi (``[edge] keys_dir/<pc_id>.key``) and on
that PC (``[agent] command_key_file``). The edge signs every command; an agent with a key acts
only on a command whose ``sig`` its key verifies.

The signature is the lower-case hex HMAC-SHA256 of the command's JSON without ``sig``, keys
sorted, no spaces, UTF-8. The agent verifies the object it received (not the fields it
understood), so a field a newer edge adds is covered too. No Pi imports: the agent uses this.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from protocol.messages import PcCommand, to_dict

MIN_KEY_CHARS = 32
SIG_FIELD = "sig"


class BadKey(ValueError):
    """A key file that cannot be used; the message names the file, never the key."""


def canonical(data: dict[str, Any]) -> bytes:
    """The bytes that are signed: the object without ``sig``, keys sorted, no spaces, UTF-8."""
    body = {k: v for k, v in data.items() if k != SIG_FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(data: dict[str, Any], key: bytes) -> str:
    """The lower-case hex HMAC-SHA256 of ``data`` (its ``sig``, if any, left out)."""
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def why_not_signed(data: dict[str, Any], key: bytes) -> str | None:
    """None when ``data["sig"]`` is the signature of ``data`` with ``key``; else why, in words."""
    sig = data.get(SIG_FIELD)
    if sig is None:
        return "not signed (this PC accepts only signed commands)"
    if not isinstance(sig, str):
        return "signature is not a string"
    # compare_digest: the time taken must not tell an attacker how many characters were right.
    if not hmac.compare_digest(sig.encode("utf-8", "replace"), sign(data, key).encode()):
        return "bad signature (signed with another key, or changed on the way)"
    return None


def command_payload(command: PcCommand, key: bytes | None) -> bytes:
    """The command as sent over MQTT: signed with ``key``, or without ``sig`` when None."""
    data = to_dict(command)
    data.pop(SIG_FIELD, None)
    if key:
        data[SIG_FIELD] = sign(data, key)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def read_key(path: Path) -> bytes:
    """The key in the first line of ``path``; BadKey (naming the file) when unusable."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadKey(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadKey(f"{path}: cannot read: {getattr(exc, 'strerror', None) or 'not text'}") from None
    key = lines[0].strip() if lines else ""
    if len(key) < MIN_KEY_CHARS:
        raise BadKey(f"{path}: the key (first line) must have at least {MIN_KEY_CHARS} "
                     f"characters, it has {len(key)}")
    return key.encode()


def read_keys(keys_dir: Path, pcs: tuple[str, ...]) -> dict[str, bytes]:
    """The key of every PC in ``pcs`` that has ``<pc>.key`` in ``keys_dir``; BadKey on the
    first unusable one (a missing folder, a short or unreadable key)."""
    try:
        if not keys_dir.is_dir():
            raise BadKey(f"{keys_dir}: no such folder")
        present = [pc for pc in pcs if (keys_dir / f"{pc}.key").exists()]
    except OSError as exc:   # e.g. a name too long
        raise BadKey(f"{keys_dir}: {exc.strerror or exc}") from None
    return {pc: read_key(keys_dir / f"{pc}.key") for pc in present}
