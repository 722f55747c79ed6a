"""Surveys: what touchpoints ask, in versions, assigned down the location tree."""
