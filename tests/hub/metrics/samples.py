"""Reading metrics back as a scraper does: from this process's registry, or from /metrics text."""

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families


def value(name: str, **labels: str) -> float:
    """A sample of this process's metrics; 0 where it has not been recorded yet."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) -> value, from the Prometheus text format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> float:
    """The sum of a sample over all its labels."""
    return sum(v for (sample, _labels), v in samples.items() if sample == name)
