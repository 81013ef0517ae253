"""Business logic in plain Python: no Flask request objects here."""
