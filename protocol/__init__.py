"""What the three programs share (edge on the Pi, agent on the PC, dashboard on the IT server).

The MQTT payloads of CONTRACT §3 (messages), the client habits (mqtt), signed commands (signing),
the config files (config) and the words the PC shows (texts). Imports nothing of edge, agent,
dashboard or siaga (tests/test_layout.py).
"""
