"""Every PromQL expression of the dashboards parses (real promtool), and every metric a dashboard or an
alert reads is in the checked list of exporter metric names; HAProxy's names are checked against a real
HAProxy 2.6 exporter."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from components.monitoring.alerts import platform_alerts
from components.monitoring.dashboards import dashboard_json, dashboards
from components.monitoring.metric_names import EXPORTERS, KNOWN_METRICS
from tests.helpers import require_tool, stack_platform

# PromQL words that are not metric names (functions, aggregations, keywords).
_WORDS = {
    "sum", "avg", "max", "min", "count", "topk", "bottomk", "by", "without", "on", "ignoring", "group_left",
    "group_right", "rate", "increase", "irate", "histogram_quantile", "time", "absent", "and", "or", "unless",
    "bool", "offset", "absent_over_time", "label_values", "group",
}  # fmt: skip
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or label names."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values and template strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = _GROUPING.sub("", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        follows = text[match.end() :].lstrip()[:1]
        if word in _WORDS or follows == "(" or re.fullmatch(r"\d+[smhdwy]", word) or re.fullmatch(r"e\d*", word):
            continue
        names.add(word)
    return names


def _expressions() -> dict[str, list[str]]:
    cfg = stack_platform("prod")
    assert cfg.monitoring is not None
    out = {f"alert {a.name}": [a.expr] for a in platform_alerts(cfg, cfg.monitoring)}
    out |= {f"dashboard {d.name}": d.expressions() for d in dashboards(cfg)}
    return out


def test_extractor_finds_names_and_skips_labels() -> None:
    expr = 'sum by (namespace) (rate(foo_total{job="x",a=~"b|c"}[5m])) / on (pod) group_left (q) bar * 2 > 0.8'
    assert metric_names(expr) == {"foo_total", "bar"}


def test_every_metric_is_a_known_exporter_metric() -> None:
    unknown = {where: sorted(metric_names(e) - KNOWN_METRICS) for where, exprs in _expressions().items() for e in exprs}
    assert {k: v for k, v in unknown.items() if v} == {}
    for name, (source, names) in EXPORTERS.items():
        assert source and names, name


def test_every_listed_metric_is_read_or_checked_against_its_exporter() -> None:
    # A name nothing reads is checked by nothing (a typo in it would go unnoticed); HAProxy's are
    # compared with a real exporter below.
    read = {name for exprs in _expressions().values() for e in exprs for name in metric_names(e)}
    assert KNOWN_METRICS - read <= EXPORTERS["haproxy"][1]


def test_a_made_up_metric_is_caught() -> None:
    assert metric_names("rate(node_cpu_secs_total[5m])") - KNOWN_METRICS == {"node_cpu_secs_total"}


def test_dashboard_expressions_parse(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule (Grafana's `$queue` variable becomes `.*`)."""
    promtool = require_tool("promtool")
    rules = [
        {"record": f"check:{i}", "expr": expr.replace("$queue", ".*")}
        for i, expr in enumerate(e for d in dashboards(stack_platform("prod")) for e in d.expressions())
    ]
    path = tmp_path / "dashboards.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_a_broken_expression_fails_promtool(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "x", "expr": "sum by (a (foo)"}]}]}))
    assert subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, timeout=60).returncode != 0


def test_dashboards_are_deterministic_json() -> None:
    cfg = stack_platform("prod")
    specs = dashboards(cfg)
    assert [d.name for d in specs] == ["platform-overview", "queues", "gpus", "nodes", "nfs", "control-plane"]
    for spec in specs:
        assert dashboard_json(spec) == dashboard_json(spec)
        assert f'"uid": "jhub-{spec.name}"' in dashboard_json(spec)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_haproxy_names_come_from_a_real_exporter(tmp_path: Path) -> None:
    """HAProxy 2.6 (Debian) with the platform's exporter section: every haproxy_* name in the list exists."""
    from components.haproxy_lb.haproxy_cfg import render_metrics_section

    haproxy = require_tool("haproxy")
    port = _free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\nbackend kube-apiserver\n    server cp-1 127.0.0.1:1 check\n"
        + render_metrics_section("127.0.0.1", port, "127.0.0.0/8")
    )
    proc = subprocess.Popen([haproxy, "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body, "HAProxy's exporter did not answer"
        with pytest.raises(urllib.error.HTTPError):  # only /metrics is served
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    served = {line.split("{")[0].split(" ")[0] for line in body.splitlines() if line and not line.startswith("#")}
    assert EXPORTERS["haproxy"][1] <= served
