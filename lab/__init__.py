"""The lab: benchmarks, the soak, chaos and the emotion model's evaluation (`seed-lab`).

It may import hub and edge freely; neither imports it, and neither wheel ships it."""

__version__ = "0.1.0"
