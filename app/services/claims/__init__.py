"""Claims (sinistres): the declaration deadlines, the claim's life and its doors' use cases."""
