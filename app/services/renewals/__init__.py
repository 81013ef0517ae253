"""Échéances and renewals: the cancellation-rights rules (``rules``) come first."""
