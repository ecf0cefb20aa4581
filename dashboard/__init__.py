"""The dashboard (`siaga dashboard`, `siaga report`): runs on the Pi or on IT's server.

web/ is the Flask app, store/ what MQTT tells it, texts/ what the page says, alerts/ what goes
to IT, report/ the needs report. This file imports nothing, so that `siaga report` and `siaga
check` do not load Flask (tests/test_layout.py).
"""
