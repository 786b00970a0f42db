"""deploy/: the Prometheus alert rules pass promtool (syntax and their unit tests), and the rules
and the Grafana dashboard only use metrics the application exposes."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from madansara.metrics import declared_gauge_functions

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "madansara.json"
NAME = re.compile(r"\bmadansara_[a-z_]+")
EXPECTED_ALERTS = {
    "MadansaraSLABreachesRising",
    "MadansaraReviewQueueStale",
    "MadansaraProviderErrorRate",
    "MadansaraOutboxBacklogGrowing",
    "MadansaraWebhookRefusalsSpiking",
    "MadansaraWorkerDown",
    "MadansaraBeatDown",
}
promtool = pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian: prometheus) not installed")


@pytest.fixture
def exposed_names(db) -> set[str]:
    """Every sample name the web and the worker can expose."""
    names = set()
    for collector in list(REGISTRY._collector_to_names):
        for family in collector.describe() if hasattr(collector, "describe") else []:
            if family.type == "counter":
                names |= {f"{family.name}_total", f"{family.name}_created"}
            elif family.type == "histogram":
                names |= {f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum", "created")}
            else:
                names.add(family.name)
    for function in declared_gauge_functions():
        names |= {gauge.name for gauge in function()}
    return {name for name in names if name.startswith("madansara_")}


def test_rules_cover_the_conditions_that_matter():
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} == EXPECTED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    }
    assert tested == EXPECTED_ALERTS


def test_rules_and_dashboard_use_only_exposed_metrics(exposed_names):
    assert {"madansara_http_requests_total", "madansara_conversations_past_sla"} <= exposed_names
    used_by_rules = set(NAME.findall(RULES.read_text()))
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used_by_dashboard = {name for expr in expressions for name in NAME.findall(expr)}
    assert used_by_rules - exposed_names == set()
    assert used_by_dashboard - exposed_names == set()
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in exposed_names}
    shown = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in used_by_dashboard}
    assert families - shown == set(), "every metric family has a dashboard panel"


def test_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


@promtool
def test_promtool_checks_the_rules_and_runs_their_unit_tests():
    checked = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        ["promtool", "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120, cwd=RULES.parent
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
