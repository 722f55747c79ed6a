"""Rollups: the presses counted per location and time bucket, written in the transaction that
stores the presses, read by every score, trend, heat map, alert and export.

Four levels, each a sum of the one before, misuse kept apart:

- hourly (`HourlyRollup`): per UTC hour;
- daily (`DailyRollup`): per UTC day, so a long period reads a row a day;
- local day (`LocalDayRollup`): per day of the location's own calendar, for long trends;
- week-hour (`WeekHourRollup`): per local month, weekday and hour, for long heat maps.

An hour belongs to the local day, weekday and hour its start falls in, so every level agrees
with the hourly one. `buckets` says where a moment falls, `write` folds presses in, `read`
answers reports, `checks` recounts the raw events.

The reasons rollups count answered presses (a press with the follow-up it counts with, as
`answers` says) per question, survey version and option: each location's own per UTC hour,
day and month, and each place's subtree per local day. `reasons` writes them as presses and
follow-ups are stored, `reasons_read` answers the reasons reports, `checks` recounts them.
"""
