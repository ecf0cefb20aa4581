"""Run by Home Assistant's own Python (make ha-venv): validate discovery payloads with the MQTT
discovery schema of the installed Home Assistant, the one it applies to a config it receives.

stdin: {"topic": payload, ...}; stdout: {"version": HA's version, "results": {"topic":
{"error": str | null, "dropped": [keys this HA ignores], "qos": the QoS HA will use}}}.
Imports nothing of Siaga's.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import tempfile

import voluptuous as vol
from homeassistant.const import __version__
from homeassistant.core import HomeAssistant


def check(topic: str, payload: dict) -> dict:
    """One payload against its component's DISCOVERY_SCHEMA."""
    component = topic.split("/")[1]
    schema = importlib.import_module(f"homeassistant.components.mqtt.{component}").DISCOVERY_SCHEMA
    try:
        validated = schema(dict(payload))
    except vol.Invalid as exc:
        return {"error": str(exc), "dropped": [], "qos": None}
    return {"error": None, "dropped": sorted(set(payload) - set(validated)),
            "qos": validated.get("qos")}


async def main() -> None:
    """Read the payloads, print the verdicts (in an event loop: HA 2025 and later validate
    templates only there, as its MQTT integration does)."""
    payloads = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as config_dir:
        HomeAssistant(config_dir)   # the instance templates are checked against (never started)
        results = {topic: check(topic, payload) for topic, payload in payloads.items()}
    json.dump({"version": __version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
