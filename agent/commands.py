"""Which PC commands the agent acts on, and the memory of the ones it has handled.

``judge`` is pure: given the raw payload, the time and the ids already handled, it says whether
to act, what to ack and, when ignoring, the one line to log. The edge resends a command with the
same ``id`` until it is acked, so a repeat is acked again but never acted on twice; the ids are
kept in a small JSON file so that holds across a reconnect and a restart of the agent. The same
file keeps a shutdown that waits out its grace, so a restart of the agent does not lose it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Container

from protocol.messages import MAX_PAYLOAD_BYTES, Ack, BadMessage, PcCommand, decode
from protocol.signing import why_not_signed

logger = logging.getLogger(__name__)

MAX_ID_CHARS = 200
REMEMBER_AFTER_EXPIRY_S = 3600.0   # keep an id this long after its command expires (clock skew)
MAX_REMEMBERED = 1000
CLOCK_SKEW_WARN_S = 60.0


@dataclass(frozen=True)
class Verdict:
    """What to do with one received payload."""

    act: bool
    command: PcCommand | None = None
    ack: Ack | None = None       # None: the payload has no id we could answer
    reason: str = ""             # why it is ignored (logged once); "" when acted on


def judge(raw: bytes, now: float, handled: Container[str], key: bytes = b"",
          broker_fresh: bool = False) -> Verdict:
    """Decide about one command payload received at ``now``; with a ``key``, only a command
    signed with it is acted on (CONTRACT §5.9).

    ``broker_fresh``: the broker delivered it with MQTT v5 message expiry left, so it is not
    older than its MQTT lifetime whatever the two wall clocks say; it is then judged in the
    sender's own clock (expired if ``expires`` is not after its ``ts``). The edge's ``expires``
    is its own clock's; an
    edge clock an hour behind the PC's (a Pi without a real-time clock before NTP, an NTP step)
    made every command look expired, and a refused cancel let a PC shut down on mains."""
    try:
        cmd = decode(PcCommand, raw)
    except BadMessage as exc:
        reason = str(exc)
        loose = _loose_id_kind(raw)
        ack = Ack(loose[0], loose[1], False, now, f"rejected: {reason}"[:300]) if loose else None
        return Verdict(False, None, ack, f"malformed command: {reason}")
    if not cmd.id or len(cmd.id) > MAX_ID_CHARS:
        return Verdict(False, None, None, f"malformed command: id must have 1 to {MAX_ID_CHARS} characters")
    if key and (unsigned := why_not_signed(json.loads(raw), key)):
        return Verdict(False, cmd, Ack(cmd.id, cmd.kind, False, now, f"refused: {unsigned}"),
                       f"{cmd.kind} command {cmd.id} refused: {unsigned}")
    if cmd.id in handled:
        return Verdict(False, cmd, Ack(cmd.id, cmd.kind, True, now, "already handled"),
                       f"{cmd.kind} command {cmd.id} already handled: acked again, not acted on")
    if cmd.expires <= cmd.ts if broker_fresh else cmd.expires < now:
        skew = f" (sent at {cmd.ts:.0f}, our clock says {now:.0f}: do the clocks differ?)" \
            if abs(now - cmd.ts) > CLOCK_SKEW_WARN_S else ""
        return Verdict(False, cmd, Ack(cmd.id, cmd.kind, False, now, "expired"),
                       f"{cmd.kind} command {cmd.id} expired {now - cmd.expires:.0f} s ago{skew}")
    return Verdict(True, cmd, Ack(cmd.id, cmd.kind, True, now))


def _loose_id_kind(raw: bytes) -> tuple[str, str] | None:
    """The id (and kind) of a payload that failed to decode, when it has a usable one."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        return None
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    cid, kind = data.get("id"), data.get("kind")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_ID_CHARS:
        return None
    return cid, kind if isinstance(kind, str) and len(kind) <= 40 else ""


class HandledIds:
    """The ids of the commands acted on, kept in a JSON file (or in memory without one)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._ids: dict[str, float] = {}
        self.shutdown: dict[str, Any] | None = None   # the shutdown waiting out its grace, if any
        self._save_failed = False
        self._lock = threading.Lock()
        if path is not None:
            self._load(path)

    def __contains__(self, cid: object) -> bool:
        return cid in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, cid: str, expires: float, now: float | None = None, save: bool = True) -> None:
        """Remember ``cid`` until well after ``expires``; forget what is long past.

        ``save=False`` only remembers it in memory (instant); ``save()`` writes the file later.
        """
        now = time.time() if now is None else now
        with self._lock:
            ids = dict(self._ids)
            ids[cid] = max(expires, now) + REMEMBER_AFTER_EXPIRY_S
            ids = {k: v for k, v in ids.items() if v >= now}
            if len(ids) > MAX_REMEMBERED:
                ids = dict(sorted(ids.items(), key=lambda kv: kv[1])[-MAX_REMEMBERED:])
            self._ids = ids
        if save:
            self.save()

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ids = data["handled"]
            self._ids = {str(k): float(v) for k, v in ids.items()}
            self.shutdown = data.get("shutdown") if isinstance(data.get("shutdown"), dict) else None
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("state file %s unreadable (%s); starting with no handled commands",
                           path, exc)
            self._ids = {}

    def set_shutdown(self, record: dict[str, Any] | None) -> None:
        """Remember the shutdown waiting out its grace (None: there is none) and save at once."""
        self.shutdown = record
        self.save()

    def save(self) -> None:
        """Write the ids to the state file (atomically); a failure is logged once."""
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with self._lock:   # the worker, the shutdown thread and stop() save: one tmp file
                text = json.dumps({"v": 1, "handled": self._ids, "shutdown": self.shutdown})
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.path)
        except OSError as exc:
            if not self._save_failed:
                logger.warning("cannot write the state file %s (%s); handled commands are kept "
                               "in memory only", self.path, exc.strerror or exc)
            self._save_failed = True
            return
        self._save_failed = False
