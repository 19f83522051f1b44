"""deploy/prometheus/ checked by Prometheus' own tool (`promtool`, from Debian's
`prometheus` package, which scripts/system-deps.sh installs for `make test`) and
against the series the app really exports: the alert rules of SPEC §8 pass
`promtool check rules` and their unit tests, and every query of the rules and of
the Grafana dashboard parses and names only metrics `/metrics` serves. Without
promtool these tests are skipped on a developer's machine and fail in CI."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from metrics.scraped import scrape
from support import required_tool

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
DASHBOARD = PROMETHEUS / "dashboard.json"
OPERATIONS = PROMETHEUS.parents[1] / "docs" / "operations.md"
PROMTOOL_HINT = "Debian's `prometheus` package has it; scripts/system-deps.sh installs it"
SPEC_ALERTS = {
    "PhotoChangerReplicaDown",  # a replica Prometheus cannot scrape
    "PhotoChangerIngestTimeouts",  # 504 share over 5 %
    "PhotoChangerIngestErrors",  # 5xx over 10 % in 15 min
    "PhotoChangerMediaDiskFull",  # media disk over 80 %
    "PhotoChangerNoRecentCleanup",  # no cleanup for 30 min ...
    "PhotoChangerCleanupNeverRan",  # ... also when none ran since the start
    "PhotoChangerCleanupDeletesFailing",  # ... or its deletes keep failing
    "PhotoChangerProviderFailing",  # a provider failing repeatedly
}
SCRAPE_SERIES = {"up"}
"""What Prometheus records of each scrape itself, not the app."""
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__range": "1h",
    "$slot": ".*",
    "$provider": ".*",
    "$job": ".*",
}
"""What Grafana puts in place of its variables, for promtool to parse a query."""
PROMQL_WORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


def find_promtool() -> str:
    """promtool's path; skips the test without it, or fails it when `CI` is set."""
    return required_tool("promtool", hint=PROMTOOL_HINT)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_promtool(), *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_targets() -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every query of every panel."""
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads: what is left once strings,
    label matchers, ranges, grouping clauses, Grafana variables, function
    calls, keywords and numbers are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    names = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\b(?!\s*\()", text)
    return {name for name in names if name.lower() not in PROMQL_WORDS}


# --- promtool -------------------------------------------------------------------


def test_a_missing_promtool_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no promtool on it
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="promtool is not installed"):
        promtool("--version")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="promtool is not installed"):
        promtool("--version")


def test_promtool_accepts_the_alert_rules() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(SPEC_ALERTS)} rules found" in checked.stdout


def test_the_alert_rules_pass_their_unit_tests() -> None:
    tested = promtool("test", "rules", "alerts-test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_example_prometheus_config_is_valid() -> None:
    # --syntax-only: the token file it names exists on a Prometheus host, not here.
    checked = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    recorded = []
    for number, (_title, expression) in enumerate(dashboard_targets()):
        for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
            expression = expression.replace(variable, value)
        assert "$" not in expression, expression
        recorded.append({"record": f"dashboard:query_{number}", "expr": expression})
    queries = tmp_path / "dashboard-queries.yml"
    queries.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    checked = promtool("check", "rules", str(queries))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(recorded)} rules found" in checked.stdout


def test_promtool_refuses_a_query_that_does_not_parse(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "sum(rate(x[5m])"}]}]}
        )
    )
    assert promtool("check", "rules", str(broken)).returncode != 0


# --- the rules and the dashboard against the app ---------------------------------


def test_the_rules_are_the_alerts_of_spec_section_8() -> None:
    found = rules()
    assert {rule["alert"] for rule in found} == SPEC_ALERTS
    for rule in found:
        assert rule["labels"]["severity"] in {"page", "warning"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
    thresholds = {rule["alert"]: rule["expr"] for rule in found}
    assert '{code="504"}' in thresholds["PhotoChangerIngestTimeouts"]
    assert "> 0.05" in thresholds["PhotoChangerIngestTimeouts"]
    assert '{code=~"5.."}[15m]' in thresholds["PhotoChangerIngestErrors"]
    assert "> 0.10" in thresholds["PhotoChangerIngestErrors"]
    for share in ("PhotoChangerIngestTimeouts", "PhotoChangerIngestErrors"):
        # Of the ingests that were not rejected, and only with enough of them.
        assert (
            '/ sum(rate(photochanger_ingests_total{outcome!="rejected"}[15m]))'
            in (thresholds[share])
        )
        assert (
            'sum(increase(photochanger_ingests_total{outcome!="rejected"}[15m])) >= 20'
            in thresholds[share]
        )
    assert thresholds["PhotoChangerReplicaDown"].strip() == 'up{job=~"photochanger.*"} == 0'
    assert "> 0.80" in thresholds["PhotoChangerMediaDiskFull"]
    assert "> 1800" in thresholds["PhotoChangerNoRecentCleanup"]


def test_the_replica_alert_watches_every_job_of_the_example_config() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert jobs
    (rule,) = [rule for rule in rules() if rule["alert"] == "PhotoChangerReplicaDown"]
    matched = re.search(r'job=~"([^"]+)"', rule["expr"])
    assert matched is not None
    assert [job for job in jobs if not re.fullmatch(matched.group(1), job)] == []


def test_the_operations_guide_lists_every_alert() -> None:
    rows = {
        line.split("|")[1].strip().strip("`")
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("| `PhotoChanger")
    }
    assert rows == {rule["alert"] for rule in rules()}


def test_the_name_reader_finds_the_metrics_of_a_query() -> None:
    expression = (
        'histogram_quantile(0.95, sum by (le, slot) (rate(a_bucket{slot=~"$slot",x="b c"}'
        "[$__rate_interval]))) / on() group_left(kind) b_total offset 5m and bool 1e3 > c:d"
    )
    assert metric_names(expression) == {"a_bucket", "b_total", "c:d"}


async def test_every_query_names_only_metrics_the_app_exports(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # A whole cleanup run, so the series that exist only after one are there too.
    await app.state.services.cleanup.run()
    exported = (await scrape(client)).names()

    queries = [(f"rule {rule['alert']}", rule["expr"]) for rule in rules()]
    queries += [(f"panel {title!r}", expression) for title, expression in dashboard_targets()]
    assert len(queries) > len(SPEC_ALERTS)
    unknown = {}
    for where, expression in queries:
        names = metric_names(expression)
        assert names, f"{where} reads no metric: {expression}"
        if names - exported - SCRAPE_SERIES:
            unknown[where] = sorted(names - exported - SCRAPE_SERIES)
    assert not unknown, f"queries of metrics /metrics does not serve: {unknown}"


async def test_the_operations_guide_lists_every_series_the_app_exports(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await app.state.services.cleanup.run()
    guide = OPERATIONS.read_text()
    families = {
        line.split()[2]
        for line in (await scrape(client)).text.splitlines()
        if line.startswith("# TYPE photochanger_")
    }
    assert families
    missing = {name for name in families if f"`{name}`" not in guide}
    assert not missing, f"not in docs/operations.md#metrics: {sorted(missing)}"


def test_every_dashboard_panel_reads_the_chosen_data_source() -> None:
    document = json.loads(DASHBOARD.read_text())
    variables = {variable["name"] for variable in document["templating"]["list"]}
    assert {"datasource", "slot", "provider", "job"} <= variables
    panels = [panel for panel in document["panels"] if panel["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
