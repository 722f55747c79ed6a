"""What a live hub serves passes Prometheus' own linter, and holds every metric the Grafana
dashboard queries."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.hub.metrics.conftest import Scraped, promtool
from tests.hub.metrics.samples import parse

DASHBOARD = Path(__file__).parents[3] / "firmware_config" / "grafana" / "seed-hub.json"
ROWS = {"Ingest", "Dead letters", "Fleet health", "Alerting", "Web"}
# PromQL words that look like metric names but are not; a name followed by "(" is a function
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
KEYWORDS |= {"and", "or", "unless", "offset"}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _exprs(node: object) -> list[str]:
    """Every `expr` in the dashboard: its panels' queries."""
    if isinstance(node, dict):
        own = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return own + [e for value in node.values() for e in _exprs(value)]
    if isinstance(node, list):
        return [e for value in node for e in _exprs(value)]
    return []


def metric_names(expr: str) -> set[str]:
    """The metrics a PromQL expression reads."""
    bare = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # ranges
    bare = GROUPING.sub("", bare)
    names = set()
    for word in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
        if word.group() in KEYWORDS or bare[word.end() :].lstrip().startswith("("):
            continue
        names.add(word.group())
    return names


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job=~"$job"}[5m]))) '
        "/ on (job) group_left b_total + max without (device) (c)"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_promtool_finds_nothing_to_fix(scraped: Scraped) -> None:
    for text in (scraped.own_port, scraped.web_port):
        command = [promtool(), "check", "metrics"]
        checked = subprocess.run(
            command, input=text.encode(), capture_output=True, timeout=60, check=False
        )
        assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
        assert "seed_hub_messages_stored_total" in text


def test_every_metric_the_dashboard_queries_is_served(scraped: Scraped) -> None:
    served = {name for name, _labels in parse(scraped.own_port)}
    exprs = _exprs(_dashboard()["panels"])
    queried = {name for expr in exprs for name in metric_names(expr)}
    assert len(queried) >= 14, queried
    assert queried - served == set()
    assert {name for name, _labels in parse(scraped.web_port)} >= queried


def test_the_dashboard_is_grafana_10_and_asks_for_its_prometheus() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 38 and dashboard["uid"] == "seed-hub"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    rows = {p["title"] for p in dashboard["panels"] if p["type"] == "row"}
    assert rows >= ROWS
    queries = [p for p in dashboard["panels"] if p["type"] != "row"]
    for panel in queries:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
