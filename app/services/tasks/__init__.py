"""The work queue: tasks, the rules that create them, the daily run (issue 15)."""
