"""Fault injection, Jepsen style: kiosks and hub as real processes, faults in between,
and a checker that classifies every press as ok, lost, duplicated or unexpected."""
