"""Configuration (CONTRACT §2): TOML read once into frozen dataclasses, one declaration per key.

Each key is declared once, as a field of its section's frozen dataclass:

    notice_after_s: float = key(5, "Seconds on battery before the PC is told.", low=0)

(type = the annotation; default; bounds ``low``/``high``, ``choices`` or an explicit ``check``;
a one-line doc; ``note`` for more in the example file; ``required=True`` for a key that must be
set). ``load_config``/``load_agent_config`` check every key against it, gather every problem and
raise one ``ConfigError`` naming the file, the key and what is wrong, one line per problem; the
example files (firmware_config/) and the docs' table (docs/configuration.md) are written from the
same declarations by ``python -m protocol.config.example --write``.

By program: ``common`` ([site], [mqtt]: both files), ``pi`` (the Pi's siaga.toml), ``dashboard``
([dashboard], [alerts] of that file), ``agent`` (the PC's agent.toml; stdlib and signing only).
"""

from __future__ import annotations

from .agent import AGENT_FILE, AgentConfig, AgentSection, ObsConfig, load_agent_config
from .common import MqttConfig, SiteConfig
from .dashboard import AlertsConfig, DashboardConfig, group_problem
from .declare import (ID_PATTERN, MEMBER_PATTERN, Check, DeclarationError, Key, flag, host,
                      identifier, integer, key, keys, list_of, names, number, one_of, pins,
                      schema, section_name, sites_filter, table, text, time_zone, topic_prefix)
from .pi import (SIAGA_FILE, Config, EdgeConfig, GpioConfig, HomeAssistantConfig, PolicyConfig,
                 UpsConfig, load_config)
from .reader import BadPath, ConfigError, key_name, nearest

# key name -> check, per section (the name the file uses: "ups" for [[ups]], "obs" for [agent.obs])
SECTION_TYPES: dict[str, type] = {section_name(cls): cls for cls in (*SIAGA_FILE, *AGENT_FILE, ObsConfig)}
SCHEMA: dict[str, dict[str, Check]] = {name: schema(cls) for name, cls in SECTION_TYPES.items()}
SIAGA_SECTIONS = tuple(section_name(cls) for cls in SIAGA_FILE)
AGENT_SECTIONS = tuple(section_name(cls) for cls in AGENT_FILE)
SUBTABLES = {"agent": ("obs",)}   # tables inside a section, read by their own reader

__all__ = [
    "AGENT_SECTIONS", "ID_PATTERN", "MEMBER_PATTERN", "SCHEMA", "SECTION_TYPES", "SIAGA_SECTIONS",
    "SUBTABLES", "AgentConfig", "AgentSection", "AlertsConfig", "BadPath", "Check", "Config",
    "ConfigError", "DashboardConfig", "DeclarationError", "EdgeConfig", "GpioConfig",
    "HomeAssistantConfig", "Key", "MqttConfig", "ObsConfig", "PolicyConfig", "SiteConfig",
    "UpsConfig", "flag", "group_problem", "host", "identifier", "integer", "key", "key_name",
    "keys", "list_of", "load_agent_config", "load_config", "names", "nearest", "number", "one_of",
    "pins", "sites_filter", "table", "text", "time_zone", "topic_prefix",
]
