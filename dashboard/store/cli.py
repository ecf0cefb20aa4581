"""`siaga dashboard --migrate-from OLD.sqlite3`: the command around dashboard/store/migrate.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dashboard.store import engine
from protocol.config import ConfigError, load_config
from protocol.config.dashboard import is_postgres


def migrate_from(config_path: str, old: str) -> int:
    """Copy ``old`` into ``dashboard.database``; 0 when done, 1 when it cannot be (one line)."""
    config = load_config(config_path)
    location = config.dashboard.database
    if not is_postgres(location):
        raise ConfigError(f"{Path(config.path).name}: dashboard.database: --migrate-from copies "
                          'into PostgreSQL: set it to a URL such as "postgresql://siaga@db/siaga"')
    from dashboard.store.migrate import MigrationError, migrate
    try:
        target = engine.open_engine(location)
    except engine.errors(location) as exc:
        print(f"siaga dashboard: cannot open {engine.shown(location)}: "
              f"{engine.reason(exc, location)}", file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        counts = migrate(old, target)
    except MigrationError as exc:
        print(f"siaga dashboard: {exc}", file=sys.stderr)
        return 1
    finally:
        target.close()
    print(f"copied {old} into {engine.shown(location)} in {time.monotonic() - started:.1f} s: "
          + ", ".join(f"{n} {what}" for what, n in counts.items())
          + " (new rows; minutes, hours and spans: rows merged)")
    return 0
