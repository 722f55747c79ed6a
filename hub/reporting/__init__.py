"""Reporting: scores, per-location reports, the dashboard's analytics, CSV exports, the
PDF report and its weekly schedule, all read from the rollups."""
