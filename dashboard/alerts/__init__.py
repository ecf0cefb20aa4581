"""Alerts to IT (CONTRACT §5.5): rules, targets, texts and the outbox. No Flask here."""
