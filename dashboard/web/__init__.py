"""The status page and its JSON API: the Flask app factory (app.py) and one module per blueprint."""
