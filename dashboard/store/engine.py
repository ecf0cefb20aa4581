"""What the dashboard asks of its database, whichever engine keeps it (CONTRACT §6.5).

Two engines implement it: ``SqliteDatabase`` (dashboard/store/database.py, one file, one
dashboard: the default for an office) and ``PostgresDatabase`` (dashboard/store/postgres.py, one
server shared by several dashboards: the national view). The same tests run on both
(tests/test_dashboard_store.py, tests/test_alerts_outbox.py).

A shared engine differs in three ways the store and the alerts must know of: its writes are
batched (``queue_event``; a burst is one transaction), other processes write beside this one
(``listen`` hands their new states and events over), and work that must happen once is claimed
in the database (an outbox row, a replay, the alert rules' leader).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, TypeGuard

from dashboard.store import history
from protocol.config.dashboard import is_postgres
from protocol.config.reader import hide_password, url_passwords
from protocol.messages import JournalEvent

if TYPE_CHECKING:
    from dashboard.store.postgres import Heard


class DatabaseUnavailable(Exception):
    """The database server cannot be reached right now (PostgreSQL restarting, the network
    down). The engine has said so in the log already (once per outage of the server); the caller
    tries again later instead of logging it again."""


class Engine(Protocol):
    """The dashboard's database: journal events, chart history, last states, alerts' outbox."""

    location: str    # the file or the URL, as configured
    shared: bool     # several dashboards write beside this one

    # -- the store ---------------------------------------------------------------------------
    def add_event(self, event: JournalEvent) -> bool:
        """Store an event now; False when (site, seq) is already there."""
    def add_minute(self, minute: history.Minute) -> None:
        """A finished minute of one site's chart values."""
    def save_state(self, site: str, state_json: str, ts: float) -> None:
        """Keep the state (its JSON, and its ``ts``) as the site's last known state."""
    def battery_span(self, site: str, start: float | None = None, stop: float | None = None) -> None:
        """Open the site's on-battery span at ``start``, or close its open one at ``stop``."""
    def open_battery_spans(self) -> dict[str, float]:
        """site -> start of the on-battery span left open."""
    def forget_state(self, site: str) -> None:
        """Forget the last known state of a site."""
    def prune(self, minutes_before: float, hours_before: float, events_before: float) -> None:
        """Delete chart minutes, chart hours and events older than the given times."""
    def latest_states(self) -> list[tuple[str, str]]:
        """(site, state JSON) of every site kept."""
    def has_events(self, site: str) -> bool:
        """True when at least one event of ``site`` is stored."""
    def events(self, site: str, limit: int, before: int | None = None) -> list[JournalEvent]:
        """Up to ``limit`` events of ``site`` below seq ``before``, newest first."""
    def last_seqs(self) -> dict[str, int]:
        """Each site's highest journal seq kept."""
    def recent_seqs(self, sites: list[str], window: int) -> dict[str, list[int]]:
        """site -> its newest ``window`` stored seqs, newest first."""
    def iter_events(self, site: str) -> Iterator[JournalEvent]:
        """Every event of ``site``, oldest first."""
    def history_rows(self, site: str, start: float, end: float, bucket_s: float) -> list[tuple]:
        """Stored minutes (hours for buckets of an hour or more) of ``site`` in [start, end)."""
    def cut_spans(self, site: str, start: float, end: float,
                  seen: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
        """The journal's cuts of ``site`` overlapping [start, end)."""
    def battery_spans(self, site: str, start: float, end: float) -> list[tuple[float, float | None]]:
        """On-battery spans of ``site`` overlapping [start, end)."""
    def first_data(self, site: str) -> float | None:
        """When the stored history of ``site`` starts."""
    def secret_key(self) -> str:
        """A random key made on first use and kept."""
    def claim_replay(self, site: str, from_seq: int, attempt: int) -> bool:
        """True when this process is the one to ask ``site`` to replay from ``from_seq``."""
    def flush(self) -> None:
        """Wait until every queued write is committed."""
    def close(self) -> None:
        """Write what is queued and close every connection."""

    # -- the alerts' outbox ------------------------------------------------------------------
    def open_outbox(self) -> None:
        """Create the outbox table when it is not there yet."""
    def add_alert(self, site: str, kind: str, created: float, title: str, body: str,
                  quiet_s: float, held: Callable[[float | None], bool]) -> int | None:
        """Queue an alert; None when ``held(last created)`` says it repeats."""
    def unsent_alerts(self, key: str, limit: int = 500) -> list[tuple]:
        """The oldest rows the URL ``key`` has not taken yet, claimed for this process."""
    def alert_trying(self, alert_id: int, key: str) -> str | None:
        """A delivery of the row to the URL ``key`` starts now (alert_tried ends it): the URLs
        that have the row so far; None when this process no longer holds the row (shared: its
        claim ran out and another process took it)."""
    def alert_tried(self, alert_id: int, done: str, sent: float | None, error: str | None) -> None:
        """Record one try (the delivery has ended) and give up this process's claim on the row."""
    def alert_list(self, limit: int) -> list[tuple]:
        """The newest ``limit`` rows, newest first."""
    def alert_row(self, alert_id: int) -> tuple | None:
        """One outbox row, or None."""
    def last_alerts(self, since: float) -> list[tuple[str, str, float]]:
        """(site, kind, newest created) of the alerts queued after ``since``."""
    def prune_alerts(self, before: float) -> None:
        """Forget sent alerts older than ``before``."""
    def recent_events(self, since: float) -> list[JournalEvent]:
        """Every site's events from ``since`` on, in time order."""
    def lead_alerts(self) -> None:
        """Stand for running the alert rules (a shared engine gives them to one dashboard)."""
    def leading(self, look: bool = True) -> bool:
        """True while this process runs the alert rules (always, on an unshared engine);
        ``look=False``: the last answer, without asking the server."""


class SharedEngine(Engine, Protocol):
    """An engine several dashboards share (``shared`` is True): what only it has."""

    on_heard: Callable[[Heard], None] | None   # given what the other dashboards committed
    want_events: Callable[[], bool]             # True when the others' events are wanted in full

    def queue_event(self, event: JournalEvent, kept: Callable[[JournalEvent], None],
                    duplicate: Callable[[JournalEvent], None]) -> None:
        """Store ``event`` with the next burst; ``kept`` or ``duplicate`` is called after commit."""


def is_shared(engine: Engine) -> TypeGuard[SharedEngine]:
    """True for a shared engine (PostgreSQL)."""
    return engine.shared


def errors(location: str) -> tuple[type[BaseException], ...]:
    """The exceptions the engine for ``location`` raises when it cannot open or write."""
    import sqlite3
    if is_postgres(location):
        import psycopg
        return (sqlite3.Error, psycopg.Error)
    return (sqlite3.Error,)


def shown(location: str) -> str:
    """``location`` fit for a log or an error: a URL's password (of its user part or a
    ``password=`` parameter) replaced by ``***``."""
    return hide_password(location)


def reason(exc: BaseException, location: str) -> str:
    """The first line of the engine's error, fit for a log or an error line: libpq quotes a URL
    it cannot parse, or the bad part of it ("invalid percent-encoded token"), password and all."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    line = line.replace(location, shown(location))
    for password in url_passwords(location):
        line = line.replace(password, "***")
    return line


def open_engine(location: str) -> Any:
    """The engine for ``dashboard.database``: PostgreSQL for a ``postgresql://`` URL, else an
    SQLite file. Raises the engine's own error (sqlite3.Error, psycopg.Error) when it cannot open."""
    if is_postgres(location):
        from dashboard.store.postgres import PostgresDatabase   # psycopg only where it is used
        return PostgresDatabase(location)
    from dashboard.store.database import SqliteDatabase
    return SqliteDatabase(location)
