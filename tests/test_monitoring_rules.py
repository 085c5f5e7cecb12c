"""The alert rules with the real promtool: every rule file passes `promtool check rules`, and every alert
has a `promtool test rules` case that fires on a synthetic failing series and one that stays silent on a
healthy series. The cases run against prod's rules (the stack with every component)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.alerts import platform_alerts, rule_groups
from components.monitoring.backup_metrics import BACKUP_LAST_RUN, BACKUP_LAST_SUCCESS, BACKUP_SUCCESS
from tests.helpers import ROOT, require_tool, stack_platform

Series = list[tuple[str, str]]
TEACHING = "jhub-teaching"
CP = 'instance="192.0.2.21:2381",job="kube-etcd"'
LB = 'instance="192.0.2.11:8405",job="haproxy"'
NFS_FS = 'device="/dev/sdb1",instance="192.0.2.51:9100",job="nfs-host",mountpoint="/srv"'
GIB = 2**30


def _case(fail: Series, ok: Series, at: str, labels: dict[str, str], interval: str = "30s") -> dict[str, Any]:
    return {"fail": fail, "ok": ok, "at": at, "labels": labels, "interval": interval}


PROD_BACKUPS = [("etcd", "cp-1"), ("etcd", "cp-2"), ("etcd", "cp-3"), ("hub-db", "worker-1"), ("homes", "nfs-1")]
KUBEADM_APISERVER = 'kubeadm_certificate_expiry_timestamp_seconds{certificate="apiserver",authority="false",instance="cp-1"}'

# alert -> failing series, healthy series, evaluation time, labels of the expected alert (besides severity).
CASES: dict[str, dict[str, Any]] = {
    "ApiUnreachableThroughVip": _case(
        [('up{job="api-vip",instance="k8s-api.example.org:6443"}', "0x20")],
        [('up{job="api-vip",instance="k8s-api.example.org:6443"}', "1x20")],
        "5m",
        {"job": "api-vip", "instance": "k8s-api.example.org:6443"},
    ),
    "EtcdNoLeader": _case(
        [(f"etcd_server_has_leader{{{CP}}}", "0x20")],
        [(f"etcd_server_has_leader{{{CP}}}", "1x20")],
        "5m",
        {"instance": "192.0.2.21:2381", "job": "kube-etcd"},
    ),
    "EtcdMemberMissing": _case(
        [(f'up{{job="kube-etcd",instance="192.0.2.2{i}:2381"}}', "1x40" if i < 3 else "0x40") for i in (1, 2, 3)],
        [(f'up{{job="kube-etcd",instance="192.0.2.2{i}:2381"}}', "1x40") for i in (1, 2, 3)],
        "10m",
        {},
    ),
    "EtcdDatabaseNearQuota": _case(
        [(f"etcd_mvcc_db_total_size_in_bytes{{{CP}}}", "7e9x40"), (f"etcd_server_quota_backend_bytes{{{CP}}}", "8e9x40")],
        [(f"etcd_mvcc_db_total_size_in_bytes{{{CP}}}", "1e9x40"), (f"etcd_server_quota_backend_bytes{{{CP}}}", "8e9x40")],
        "15m",
        {"instance": "192.0.2.21:2381", "job": "kube-etcd"},
    ),
    "CertificateExpiringSoon": _case(
        [('kubelet_certificate_manager_client_ttl_seconds{node="worker-1"}', "1e6x20")],
        [('kubelet_certificate_manager_client_ttl_seconds{node="worker-1"}', "2e7x20")],
        "70m",
        {"node": "worker-1"},
        interval="5m",
    ),
    # As the control planes' expiry check writes them (names and labels: tests/test_security_scripts.py);
    # at 70 min time() is 4200: an expiry 10 days on fires, one 100 days on does not.
    "KubeadmCertificateExpiringSoon": _case(
        [(KUBEADM_APISERVER, "868200x20")],
        [(KUBEADM_APISERVER, "8644200x20")],
        "70m",
        {"certificate": "apiserver", "authority": "false", "instance": "cp-1"},
        interval="5m",
    ),
    "KubeadmCertificateCheckFailing": _case(
        [('kubeadm_certificate_check_success{instance="cp-1"}', "0x20")],
        [('kubeadm_certificate_check_success{instance="cp-1"}', "1x20")],
        "70m",
        {"instance": "cp-1"},
        interval="5m",
    ),
    "HaproxyBackendServerDown": _case(
        [(f'haproxy_server_status{{{LB},proxy="kube-apiserver",server="cp-1",state="DOWN"}}', "1x30")],
        [(f'haproxy_server_status{{{LB},proxy="kube-apiserver",server="cp-1",state="DOWN"}}', "0x30")],
        "10m",
        {"instance": "192.0.2.11:8405", "job": "haproxy", "proxy": "kube-apiserver", "server": "cp-1", "state": "DOWN"},
    ),
    "HaproxyHubBackendDown": _case(
        [(f'haproxy_backend_active_servers{{{LB},proxy="hub-teaching-https"}}', "0x30")],
        [(f'haproxy_backend_active_servers{{{LB},proxy="hub-teaching-https"}}', "1x30")],
        "10m",
        {"instance": "192.0.2.11:8405", "job": "haproxy", "proxy": "hub-teaching-https"},
    ),
    "LoadBalancerHostDown": _case(
        [('up{job="lb-hosts",instance="192.0.2.12:9100"}', "0x30")],
        [('up{job="lb-hosts",instance="192.0.2.12:9100"}', "1x30")],
        "10m",
        {"job": "lb-hosts", "instance": "192.0.2.12:9100"},
    ),
    "VipNotHeldOnce": _case(
        [
            ('jhub_keepalived_vip_master{instance="192.0.2.11:9100"}', "0x20"),
            ('jhub_keepalived_vip_master{instance="192.0.2.12:9100"}', "0x20"),
        ],
        [
            ('jhub_keepalived_vip_master{instance="192.0.2.11:9100"}', "1x20"),
            ('jhub_keepalived_vip_master{instance="192.0.2.12:9100"}', "0x20"),
        ],
        "5m",
        {},
    ),
    "NodeNotReady": _case(
        [('kube_node_status_condition{node="worker-1",condition="Ready",status="true"}', "0x30")],
        [('kube_node_status_condition{node="worker-1",condition="Ready",status="true"}', "1x30")],
        "10m",
        {"node": "worker-1", "condition": "Ready", "status": "true"},
    ),
    "NfsServerDown": _case(
        [('up{job="nfs-host",instance="192.0.2.51:9100"}', "0x20")],
        [
            ('up{job="nfs-host",instance="192.0.2.51:9100"}', "1x20"),
            ('node_nfsd_server_threads{job="nfs-host",instance="192.0.2.51:9100"}', "8x20"),
        ],
        "5m",
        {"job": "nfs-host", "instance": "192.0.2.51:9100"},
    ),
    "NfsExportAbove80Percent": _case(
        [(f"node_filesystem_avail_bytes{{{NFS_FS}}}", "150x60"), (f"node_filesystem_size_bytes{{{NFS_FS}}}", "1000x60")],
        [(f"node_filesystem_avail_bytes{{{NFS_FS}}}", "500x60"), (f"node_filesystem_size_bytes{{{NFS_FS}}}", "1000x60")],
        "20m",
        {"device": "/dev/sdb1", "instance": "192.0.2.51:9100", "job": "nfs-host", "mountpoint": "/srv"},
    ),
    "NfsExportAbove90Percent": _case(
        [(f"node_filesystem_avail_bytes{{{NFS_FS}}}", "50x60"), (f"node_filesystem_size_bytes{{{NFS_FS}}}", "1000x60")],
        [(f"node_filesystem_avail_bytes{{{NFS_FS}}}", "150x60"), (f"node_filesystem_size_bytes{{{NFS_FS}}}", "1000x60")],
        "10m",
        {"device": "/dev/sdb1", "instance": "192.0.2.51:9100", "job": "nfs-host", "mountpoint": "/srv"},
    ),
    "HubDown": _case(
        [
            (f'up{{job="hub",namespace="{TEACHING}",pod="hub-0"}}', "0x20"),
            (f'kube_pod_info{{namespace="{TEACHING}",pod="hub-0",node="worker-1"}}', "1x20"),
        ],
        [
            (f'up{{job="hub",namespace="{TEACHING}",pod="hub-0"}}', "1x20"),
            (f'kube_pod_info{{namespace="{TEACHING}",pod="hub-0",node="worker-1"}}', "1x20"),
        ],
        "5m",
        {"job": "hub", "namespace": TEACHING, "pod": "hub-0", "node": "worker-1"},
    ),
    "SpawnFailureRateHigh": _case(
        [
            (f'jupyterhub_server_spawn_duration_seconds_count{{namespace="{TEACHING}",status="failure"}}', "0+2x60"),
            (f'jupyterhub_server_spawn_duration_seconds_count{{namespace="{TEACHING}",status="success"}}', "0+2x60"),
        ],
        [
            (f'jupyterhub_server_spawn_duration_seconds_count{{namespace="{TEACHING}",status="failure"}}', "0x60"),
            (f'jupyterhub_server_spawn_duration_seconds_count{{namespace="{TEACHING}",status="success"}}', "0+2x60"),
        ],
        "25m",
        {"namespace": TEACHING},
    ),
    "NotebookPendingInQueue": _case(
        [
            (f'kube_pod_created{{namespace="{TEACHING}",pod="jupyter-alice"}}', "0x60"),
            (f'kube_pod_status_phase{{namespace="{TEACHING}",pod="jupyter-alice",phase="Pending"}}', "1x60"),
        ],
        [
            (f'kube_pod_created{{namespace="{TEACHING}",pod="jupyter-alice"}}', "0x60"),
            (f'kube_pod_status_phase{{namespace="{TEACHING}",pod="jupyter-alice",phase="Pending"}}', "1x20 0x40"),
        ],
        "20m",
        {"namespace": TEACHING, "pod": "jupyter-alice"},
    ),
    "GpuXidError": _case(
        [('DCGM_FI_DEV_XID_ERRORS{Hostname="gpu-1",gpu="0"}', "0 0 79x20")],
        [('DCGM_FI_DEV_XID_ERRORS{Hostname="gpu-1",gpu="0"}', "0x20")],
        "5m",
        {"Hostname": "gpu-1", "gpu": "0", "node": "gpu-1"},
    ),
    "GpuMissing": _case(
        [('DCGM_FI_DEV_GPU_TEMP{Hostname="gpu-1",gpu="0"}', "40x40")],
        [
            ('DCGM_FI_DEV_GPU_TEMP{Hostname="gpu-1",gpu="0"}', "40x40"),
            ('DCGM_FI_DEV_GPU_TEMP{Hostname="gpu-1",gpu="1"}', "40x40"),
        ],
        "15m",
        {},
    ),
    # 10-minute samples: the last success at 0 s (stale at 28 h) or at 25 h (fresh at 28 h).
    # The series names and labels the backup jobs write (tests/test_backup_metrics_contract.py runs the writer).
    "BackupStale": _case(
        [(f'{BACKUP_LAST_SUCCESS}{{backup="homes",node="nfs-1"}}', "0x200")],
        [(f'{BACKUP_LAST_SUCCESS}{{backup="homes",node="nfs-1"}}', "90000x200")],
        "28h",
        {"backup": "homes", "node": "nfs-1"},
        interval="10m",
    ),
    # prod's five jobs; the fire case lacks cp-2's etcd backup (backup_max_age_hours 26: `for` 1560 min).
    "BackupNeverReported": _case(
        [(f'{BACKUP_LAST_RUN}{{backup="{j}",node="{n}"}}', "1x200") for j, n in PROD_BACKUPS if n != "cp-2"],
        [(f'{BACKUP_LAST_RUN}{{backup="{j}",node="{n}"}}', "1x200") for j, n in PROD_BACKUPS],
        "27h",
        {"backup": "etcd", "node": "cp-2"},
        interval="10m",
    ),
    "BackupFailed": _case(
        [(f'{BACKUP_SUCCESS}{{backup="etcd",node="cp-1"}}', "0x20")],
        [(f'{BACKUP_SUCCESS}{{backup="etcd",node="cp-1"}}', "1x20")],
        "5m",
        {"backup": "etcd", "node": "cp-1"},
    ),
    "PrometheusStorageFilling": _case(
        [
            ('prometheus_tsdb_storage_blocks_bytes{job="prometheus"}', f"{95 * GIB}x60"),
            ('prometheus_tsdb_wal_storage_size_bytes{job="prometheus"}', f"{GIB}x60"),
        ],
        [
            ('prometheus_tsdb_storage_blocks_bytes{job="prometheus"}', f"{10 * GIB}x60"),
            ('prometheus_tsdb_wal_storage_size_bytes{job="prometheus"}', f"{GIB}x60"),
        ],
        "20m",
        {"job": "prometheus"},
    ),
}


@pytest.fixture(scope="module")
def prod_rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    cfg = stack_platform("prod")
    assert cfg.monitoring is not None
    alerts = {a.name: a for a in platform_alerts(cfg, cfg.monitoring)}
    out = tmp_path_factory.mktemp("rules")
    for name, doc in rule_groups(list(alerts.values()), cfg.monitoring.scrape_interval_seconds).items():
        (out / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return alerts, out


def test_promtool_check_rules(prod_rules: tuple[dict[str, Any], Path]) -> None:
    promtool = require_tool("promtool")
    files = sorted(prod_rules[1].glob("*.yaml"))
    result = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_every_alert_has_a_case_and_a_runbook(prod_rules: tuple[dict[str, Any], Path]) -> None:
    alerts = prod_rules[0]
    assert sorted(alerts) == sorted(CASES)
    runbook = (ROOT / "docs" / "runbooks.md").read_text()
    headings = {m.lower() for m in re.findall(r"^### (\w+)$", runbook, re.M)}
    assert {name.lower() for name in alerts} <= headings


def _test_file(tmp: Path, alert: Any, case: dict[str, Any], healthy: bool) -> Path:
    # A copy of the rule without annotations: promtool compares annotations too, and these are templates
    # (`promtool check rules` above validates them); expression, `for` and labels are the real ones.
    rule = {k: v for k, v in alert.rule().items() if k != "annotations"}
    rules = tmp / "rule.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    expected = [] if healthy else [{"exp_labels": {**case["labels"], "severity": alert.severity}}]
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": case["interval"],
        "tests": [
            {
                "interval": case["interval"],
                "input_series": [{"series": s, "values": v} for s, v in (case["ok"] if healthy else case["fail"])],
                "alert_rule_test": [{"eval_time": case["at"], "alertname": alert.name, "exp_alerts": expected}],
            }
        ],
    }
    path = tmp / f"test-{'ok' if healthy else 'fail'}.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    return path


@pytest.mark.parametrize("healthy", [False, True], ids=["fires", "silent"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_promtool_alert(name: str, healthy: bool, prod_rules: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    path = _test_file(tmp_path, prod_rules[0][name], CASES[name], healthy)
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails(prod_rules: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    """The harness can fail: the healthy series of an alert, expected to fire, is a promtool failure."""
    promtool = require_tool("promtool")
    case = {**CASES["NodeNotReady"], "fail": CASES["NodeNotReady"]["ok"]}
    path = _test_file(tmp_path, prod_rules[0]["NodeNotReady"], case, healthy=False)
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0


def test_node_not_ready_silences_what_ran_on_the_node(tmp_path: Path) -> None:
    """Alertmanager's inhibition, checked by the real Alertmanager: with NodeNotReady for worker-1 firing,
    HubDown on worker-1 is inhibited and HubDown on worker-2 is not (`amtool` has no inhibition test, so a
    live alertmanager on an ephemeral port answers)."""
    import json
    import socket
    import time
    import urllib.request

    from components.monitoring.alertmanager import alertmanager_config

    binary = require_tool("prometheus-alertmanager")
    cfg = stack_platform("prod")
    assert cfg.monitoring is not None
    config = tmp_path / "alertmanager.yaml"
    secrets = {"monitoring_smtp_password": "pw", "monitoring_webhook_chat_url": "http://127.0.0.1:9/hook"}
    config.write_text(yaml.safe_dump(alertmanager_config(cfg.monitoring, secrets)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={tmp_path}/data", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/status", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "alertmanager did not start"
                time.sleep(0.2)
        alerts = [
            {"labels": {"alertname": "NodeNotReady", "node": "worker-1", "severity": "critical"}},
            {"labels": {"alertname": "HubDown", "node": "worker-1", "namespace": "jhub-teaching", "severity": "critical"}},
            {"labels": {"alertname": "HubDown", "node": "worker-2", "namespace": "jhub-exam", "severity": "critical"}},
        ]
        request = urllib.request.Request(f"{base}/alerts", json.dumps(alerts).encode(), {"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()
        state: dict[str, bool] = {}
        while time.monotonic() < deadline:
            found = json.loads(urllib.request.urlopen(f"{base}/alerts", timeout=5).read())
            state = {f"{a['labels']['alertname']}@{a['labels']['node']}": bool(a["status"]["inhibitedBy"]) for a in found}
            if len(state) == 3 and state.get("HubDown@worker-1"):
                break
            time.sleep(0.2)
        assert state == {"NodeNotReady@worker-1": False, "HubDown@worker-1": True, "HubDown@worker-2": False}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
