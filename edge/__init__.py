"""The Raspberry Pi daemon (`siaga edge`): NUT, the room core, LED and buzzer, journal, MQTT.

Imports protocol/ only, never the agent, the dashboard or the tools (tests/test_layout.py).
"""
