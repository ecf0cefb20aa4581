"""`siaga dashboard -c FILE`: the status page served by waitress on ``dashboard.listen``."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from waitress.server import create_server

from dashboard.store.feed import Feed
from dashboard.web.app import create_app, open_store, start_app, stop_app
from protocol.config import load_config
from protocol.config.dashboard import cannot_listen, listen_parts

logger = logging.getLogger(__name__)

THREADS = 8


def _cannot_listen(listen: str, reason: str) -> int:
    """Say why the page cannot be served on ``listen``; the exit status for it."""
    print(f"siaga dashboard: cannot listen on {listen}: {reason}", file=sys.stderr)
    return 1


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop catches this and closes its sockets


def run(path: str) -> int:
    """Serve until SIGTERM or Ctrl-C; 0 on a clean stop, 1 when the address cannot be used."""
    config = load_config(path)
    host, port = listen_parts(config.dashboard.listen)   # its form was checked with the file
    problem = cannot_listen(config.dashboard.listen)
    if problem:
        return _cannot_listen(config.dashboard.listen, problem)
    store = open_store(config)
    feed = Feed(config, store)
    app = None
    try:
        app = create_app(config, store, feed)
        try:
            server = create_server(app, host=host, port=port, threads=THREADS, ident="siaga")
        except (OSError, ValueError) as exc:   # ValueError: waitress's "Invalid host/port"
            return _cannot_listen(config.dashboard.listen, getattr(exc, "strerror", None) or str(exc))
        start_app(app)
        signal.signal(signal.SIGTERM, _stop)
        logger.info("status page on http://%s:%d/ (MQTT %s:%d, prefix %s)", host if ":" not in host
                    else f"[{host}]", port, config.mqtt.host, config.mqtt.port,
                    config.mqtt.topic_prefix)
        server.run()
        return 0
    finally:
        if app is not None:
            stop_app(app)
        store.close()
