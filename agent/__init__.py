"""The meeting-PC agent (`siaga agent`): runs on the PC, Windows or Linux, from `pip install siaga`.

Imports only protocol/ and the libraries of the plain install (tests/test_layout.py).
"""
