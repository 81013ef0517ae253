"""Files kept for clients, contracts and claims: checked from their content, stored safely."""
