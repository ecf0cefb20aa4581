"""Where alerts go: the Apprise URLs of ``alerts.urls_file``, one a line.

Apprise (BSD-2-Clause) speaks Telegram, e-mail, WhatsApp gateways, ntfy, Slack, plain webhooks
and some hundred more; each URL carries its service's token, so no message, log line or page
ever shows a URL: only the file, the line number and the scheme ("tgram").
Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.config import Config, ConfigError

logger = logging.getLogger(__name__)

SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]{0,31})://")
ANY_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S*")


class _AppriseLog(logging.Handler):
    """Apprise's own log lines may hold a whole URL, token included ("Unparseable URL ..."):
    they never reach our log. The warnings of one send are kept to say why it failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(ANY_URL.sub("<url>", record.getMessage()))


_APPRISE_LOG = _AppriseLog()
_apprise_logger = logging.getLogger("apprise")
_apprise_logger.addHandler(_APPRISE_LOG)
_apprise_logger.propagate = False
_apprise_logger.setLevel(logging.WARNING)


@contextlib.contextmanager
def apprise_warnings() -> Any:
    """Collect, in a list, what Apprise warns about while the block runs (in this thread)."""
    lines: list[str] = []
    _APPRISE_LOG.local.lines = lines
    try:
        yield lines
    finally:
        _APPRISE_LOG.local.lines = None


@dataclass(frozen=True)
class UrlLine:
    """One line of the URL file: where it is, its scheme, and whether Apprise can use it."""

    line: int
    scheme: str
    service: str | None      # Apprise's name for the service; None when the URL does not parse
    key: str                 # a short digest of the URL: names it in the outbox, reveals nothing


@dataclass(frozen=True)
class Target:
    """A URL Apprise understood, ready to send to."""

    key: str
    line: int
    scheme: str
    notifier: Any = None     # Apprise's notifier of this one URL


def urls_path(config: Config) -> Path | None:
    """The URL file (relative to the config file), or None when alerts are off."""
    name = config.alerts.urls_file
    return (Path(config.path).parent / name).expanduser() if name else None


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, URL) of every non-blank, non-comment line; OSError/UnicodeError as raised."""
    text = path.read_text(encoding="utf-8")
    lines = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1)]
    return [(n, url) for n, url in lines if url and not url.startswith("#")]


def inspect(url: str, line: int) -> tuple[UrlLine, Any]:
    """Parse one URL with Apprise: (what it is, Apprise's notifier for it, or None)."""
    import apprise  # the dashboard's dependency (extra "pi"); `siaga agent` never loads it

    match = SCHEME.match(url)
    scheme = match[1].lower() if match else ""
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    # The service's own notifier, not an Apprise() around it: that one sends from a thread
    # pool, and the reason of a failure would be logged where we cannot pick it up.
    notifier = apprise.Apprise.instantiate(url) if scheme else None
    if not notifier:
        return UrlLine(line=line, scheme=scheme, service=None, key=key), None
    service = str(getattr(notifier, "service_name", "") or scheme)
    return UrlLine(line=line, scheme=scheme, service=service, key=key), notifier


def describe(lines: list[tuple[int, str]]) -> list[tuple[UrlLine, Any]]:
    """Every URL line parsed (for ``siaga check`` and the start-up check)."""
    return [inspect(url, n) for n, url in lines]


def problem(item: UrlLine) -> str:
    """Why a URL cannot be used, without the URL."""
    what = f'scheme "{item.scheme}" unknown or URL incomplete' if item.scheme else "no scheme://"
    return f"not an Apprise URL Siaga can use ({what})"


def load_targets(config: Config) -> list[Target]:
    """The targets of ``alerts.urls_file``; ConfigError naming the file and each bad line."""
    path = urls_path(config)
    if path is None:
        return []
    where = f"{Path(config.path).name}: alerts.urls_file"
    try:
        lines = read_lines(path)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{where}: cannot read {path}: {reason}") from None
    parsed = describe(lines)
    bad = [f"{where}: {path} line {item.line}: {problem(item)}"
           for item, _ in parsed if item.service is None]
    if bad:
        raise ConfigError("\n".join(bad))
    if not parsed:
        logger.warning("%s: %s holds no URL: alerts are kept but sent nowhere", where, path)
    return [Target(key=item.key, line=item.line, scheme=item.scheme, notifier=notifier)
            for item, notifier in parsed]


def send(notifier: Any, title: str, body: str, notify_type: str = "info") -> str | None:
    """Send through one Apprise object with Apprise's notification type ("info", "warning",
    "failure"): None when it arrived, else why not (one line, no URL)."""
    import apprise

    with apprise_warnings() as warnings:
        try:
            if notifier.notify(body=body, title=title, notify_type=apprise.NotifyType(notify_type)):
                return None
        except Exception as exc:  # Apprise's plugins raise what their libraries raise
            return type(exc).__name__
    return (warnings[-1] if warnings else "the service refused it")[:300]
