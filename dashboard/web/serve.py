"""`siaga dashboard -c FILE`: the status page served by waitress on ``dashboard.listen``."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from waitress.server import create_server

from dashboard.store.feed import Feed
from dashboard.web.app import create_app, open_store, start_app, stop_app
from protocol.config import Config, ConfigError, load_config

logger = logging.getLogger(__name__)

THREADS = 8


def listen_address(config: Config) -> tuple[str, int]:
    """(host, port) of ``dashboard.listen``; ConfigError when it is not HOST:PORT."""
    host, _, port = config.dashboard.listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f'{Path(config.path).name}: dashboard.listen: must be HOST:PORT such as '
                          f'"127.0.0.1:8080", got "{config.dashboard.listen}"')
    return host, int(port)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop catches this and closes its sockets


def run(path: str) -> int:
    """Serve until SIGTERM or Ctrl-C; 0 on a clean stop, 1 when the address cannot be used."""
    config = load_config(path)
    host, port = listen_address(config)
    store = open_store(config)
    feed = Feed(config, store)
    app = None
    try:
        app = create_app(config, store, feed)
        try:
            server = create_server(app, host=host, port=port, threads=THREADS, ident="siaga")
        except OSError as exc:
            print(f"siaga dashboard: cannot listen on {config.dashboard.listen}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 1
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
