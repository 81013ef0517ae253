"""Commissions: rules, expected commissions, insurer statements and their reconciliation."""
