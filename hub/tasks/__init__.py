"""Tasks: an alert becomes work for the team that can fix the place, and the hub measures
whether the fix worked (teams, tasks, staff links, notifications, recovery, figures)."""
