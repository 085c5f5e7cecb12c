"""Monitoring's steps on the hosts outside Kubernetes, run in the host harness (scratch root, stand-in
system tools), and the VIP holder program run for real against this machine's addresses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from components.monitoring.hosts import VIP_METRIC_SCRIPT, node_exporter_script, vip_metric_script
from tests.helpers import require_tool
from tests.host_harness import Host


def test_node_exporter_installs_once_and_listens_on_the_node_address(tmp_path: Path) -> None:
    host = Host(tmp_path, "nfs-1")
    script = node_exporter_script("192.0.2.51", "--collector.nfsd")
    first = host.run(script)
    assert first.returncode == 0, first.stderr
    settings = (host.root / "etc/default/prometheus-node-exporter").read_text()
    assert (
        'ARGS="--web.listen-address=192.0.2.51:9100 --collector.textfile.directory=/var/lib/prometheus/node-exporter' in settings
    )
    assert "--collector.nfsd" in settings
    assert (host.root / "var/lib/prometheus/node-exporter").is_dir()
    assert "systemctl restart prometheus-node-exporter" in host.calls()
    calls_before = len(host.calls())
    second = host.run(script)
    assert second.returncode == 0, second.stderr
    again = host.calls()[calls_before:]
    assert not [c for c in again if c.startswith(("apt-get", "systemctl restart"))]  # nothing to do the second time


def test_vip_metric_timer_is_installed(tmp_path: Path) -> None:
    host = Host(tmp_path, "lb-1")
    result = host.run(vip_metric_script("192.0.2.10"))
    assert result.returncode == 0, result.stderr
    assert (host.root / VIP_METRIC_SCRIPT.lstrip("/")).stat().st_mode & 0o777 == 0o755
    timer = (host.root / "etc/systemd/system/jhub-vip-metric.timer").read_text()
    assert "OnUnitActiveSec=15s" in timer
    service = (host.root / "etc/systemd/system/jhub-vip-metric.service").read_text()
    assert f"ExecStart={VIP_METRIC_SCRIPT} 192.0.2.10 /var/lib/prometheus/node-exporter" in service
    assert "systemctl enable --now jhub-vip-metric.timer" in host.calls()


def test_vip_holder_program_reports_what_this_machine_holds(tmp_path: Path) -> None:
    """The timer's program, run for real: 127.0.0.1 is held here (lo), a documentation address is not; the
    file it writes is valid exposition format (promtool check metrics)."""
    promtool = require_tool("promtool")
    text = vip_metric_script("192.0.2.10").text
    program = text.split("<<'SCRIPT'\n", 1)[1].split("\nSCRIPT\n", 1)[0]
    path = tmp_path / "holder.sh"
    path.write_text(program + "\n")
    for vip, held in (("127.0.0.1", "1"), ("192.0.2.250", "0")):
        result = subprocess.run(["bash", str(path), vip, str(tmp_path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        metrics = (tmp_path / "keepalived.prom").read_text()
        assert f'jhub_keepalived_vip_master{{vip="{vip}"}} {held}\n' in metrics
        check = subprocess.run([promtool, "check", "metrics"], input=metrics, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keepalived")] == []  # no temporary left


def test_vip_holder_program_sees_the_vip_among_many_addresses(tmp_path: Path) -> None:
    """A host with many addresses: the VIP on the first line, then thousands more. Matching while `ip`
    still writes (a pipe into `grep -q` under pipefail) loses to SIGPIPE and reports 0."""
    text = vip_metric_script("192.0.2.10").text
    program = text.split("<<'SCRIPT'\n", 1)[1].split("\nSCRIPT\n", 1)[0]
    path = tmp_path / "holder.sh"
    path.write_text(program + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_ip = bin_dir / "ip"
    fake_ip.write_text(
        "#!/usr/bin/env bash\n"
        "echo '2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0'\n"
        "for i in $(seq 1 20000); do echo \"$((i + 2)): veth$i    inet 10.9.$((i / 250)).$((i % 250))/32 scope global\"; done\n"
    )
    fake_ip.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(path), "192.0.2.10", str(tmp_path)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert 'jhub_keepalived_vip_master{vip="192.0.2.10"} 1\n' in (tmp_path / "keepalived.prom").read_text()
