"""The dashboard's memory: the MQTT feed in, the latest states, and SQLite (events, history)."""
