"""One site as the dashboard knows it right now (dashboard/store/store.py keeps them)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from protocol.messages import AVAILABILITY, StateSnapshot, from_dict


@dataclass
class SiteEntry:
    """One site as the dashboard knows it right now.

    ``state`` may be None when the entry was made from a state another dashboard stored (a
    shared database, dashboard/store/postgres.py): it is then built from ``data`` the first time
    a page needs it. At 30,000 rooms every dashboard hears every state; checking each against
    the message types costs some 0.3 ms, and most are only ever served as JSON."""

    state: StateSnapshot   # made with None, read as a snapshot: see the property below
    data: dict[str, Any]             # to_dict(state), made once: the API serves it often
    availability: str | None = None  # the edge's retained online/offline; None = not heard
    version: int = 0
    stale: bool = False
    raw: dataclasses.InitVar[str | None] = None   # ``data`` as JSON, when it came as JSON

    @property
    def site(self) -> str:
        """The site id."""
        return self.data["site"]

    @property
    def ts(self) -> float:
        """When the edge made the state."""
        return self.data["ts"]

    def __post_init__(self, raw: str | None) -> None:
        # The JSON of the snapshot without its closing brace, made once (as UTF-8, in the feed's
        # thread): /api/sites at 5,000 sites then joins bytes instead of serialising 5,000 nested
        # dicts and encoding 3.5 MB on every request.
        self._json_head = (raw or json.dumps(self.data, ensure_ascii=False, separators=(",", ":")))[:-1]
        self._bytes_head = self._json_head.encode()

    def json(self) -> str:
        """The snapshot as JSON (what is stored as the site's last known state)."""
        return self._json_head + "}"

    def api(self) -> dict[str, Any]:
        """The snapshot as /api/sites shows it: the contract's fields plus ``stale``."""
        return {**self.data, "stale": self.stale, "availability": self.availability}

    def api_json(self) -> str:
        """``api()`` as JSON text."""
        tail = json.dumps({"stale": self.stale, "availability": self.availability})[1:]
        return f"{self._json_head},{tail}"

    def api_bytes(self) -> bytes:
        """``api_json()`` as UTF-8."""
        tail = _TAILS.get((self.stale, self.availability))
        if tail is None:
            tail = json.dumps({"stale": self.stale, "availability": self.availability})[1:].encode()
        return self._bytes_head + b"," + tail


_TAILS = {(stale, availability): json.dumps({"stale": stale, "availability": availability})[1:].encode()
          for stale in (False, True) for availability in (*AVAILABILITY, None)}


def _state(entry: SiteEntry) -> StateSnapshot:
    """The entry's snapshot, built from its data the first time it is asked for."""
    state = entry.__dict__.get("state")
    if state is None:
        state = entry.__dict__["state"] = from_dict(StateSnapshot, entry.data)
    return state


def _set_state(entry: SiteEntry, value: StateSnapshot | None) -> None:
    entry.__dict__["state"] = value


SiteEntry.state = property(_state, _set_state, doc="The snapshot (built from data when needed).")  # type: ignore[assignment]
