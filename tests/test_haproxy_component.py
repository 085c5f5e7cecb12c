"""HaproxyLb wiring under Pulumi mocks: steps per host, keepalived only with 2+ hosts, the VRRP secret on stdin only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from ipaddress import IPv4Address
from typing import Any

import pulumi
import pytest

from components.common.remote import NodeAccess
from components.haproxy_lb.component import TYPE_TOKEN, HaproxyLb
from config.cluster import ClusterConfig, LoadBalancerConfig
from config.inventory import Node, Role
from config.pulumi_source import PROJECT
from config.ssh import SshConfig
from tools import mockrun

COMMAND = "command:remote:Command"
PASSWORD = "Zq7.k-3w"
CONTROL_PLANES = [Node(name=f"cp-{i}", address=IPv4Address(f"192.0.2.{20 + i}"), roles=[Role.CONTROL_PLANE]) for i in (1, 2, 3)]


def _run(lb_count: int, password: str | None) -> mockrun.Recorder:
    def program() -> Mapping[str, Any]:
        key = pulumi.Output.secret("-----BEGIN OPENSSH PRIVATE KEY----- test")
        lb_nodes = [
            Node(name=f"lb-{i + 1}", address=IPv4Address(f"192.0.2.{11 + i}"), roles=[Role.LOAD_BALANCER])
            for i in range(lb_count)
        ]
        nodes = [NodeAccess(node, SshConfig(), key) for node in lb_nodes]
        lb = HaproxyLb(
            "api-lb",
            nodes=nodes,
            control_planes=CONTROL_PLANES,
            cluster=ClusterConfig(),
            settings=LoadBalancerConfig(vip=IPv4Address("192.0.2.10") if lb_count > 1 else None),
            frontend_port=8443,
            auth_pass=pulumi.Output.secret(password) if password is not None else None,
        )
        assert len(lb.ready) == lb_count * (2 if lb_count > 1 else 1)
        return {"load_balancer": lb.summary}

    return mockrun.run(PROJECT, "test", program)


def _steps(recorder: mockrun.Recorder, step: str) -> list[mockrun.Registration]:
    return [r for r in recorder.by_type(COMMAND) if r.name.endswith(f"-{step}")]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_haproxy_step_per_host_and_keepalived_only_with_two_or_more(count: int) -> None:
    recorder = _run(count, PASSWORD if count > 1 else None)
    component = recorder.by_type(TYPE_TOKEN)
    assert [c.name for c in component] == ["api-lb"]
    hosts = [f"lb-{i + 1}" for i in range(count)]
    assert [r.name for r in _steps(recorder, "haproxy")] == [f"{h}-haproxy" for h in hosts]
    keepalived = _steps(recorder, "keepalived")
    assert [r.name for r in keepalived] == ([f"{h}-keepalived" for h in hosts] if count > 1 else [])
    assert {r.name for r in recorder.by_type(COMMAND)} == {r.name for r in _steps(recorder, "haproxy") + keepalived}
    for reg in recorder.by_type(COMMAND):
        assert reg.parent == component[0].urn
        assert not reg.delete_before_replace and "delete" not in reg.inputs  # no delete: it would cut the API
        assert len(reg.inputs["triggers"]) == 4  # node name, address, config hash, script hash
    for reg in keepalived:
        host = reg.name.removesuffix("-keepalived")
        assert recorder.named(f"{host}-haproxy").urn in reg.depends_on
    summary = recorder.outputs["load_balancer"]
    assert summary["hosts"] == hosts and summary["port"] == 8443
    assert summary["stats"].startswith("http://127.0.0.1:")
    assert summary["backends"] == ["192.0.2.21:6443", "192.0.2.22:6443", "192.0.2.23:6443"]
    assert summary["vip"] == ("192.0.2.10" if count > 1 else None)


def test_each_host_gets_its_own_keepalived_config() -> None:
    recorder = _run(3, PASSWORD)
    creates = {r.name: r.inputs["create"] for r in _steps(recorder, "keepalived")}
    assert "priority 200" in creates["lb-1-keepalived"] and "unicast_src_ip 192.0.2.11" in creates["lb-1-keepalived"]
    assert "priority 190" in creates["lb-2-keepalived"] and "unicast_src_ip 192.0.2.12" in creates["lb-2-keepalived"]
    assert "priority 180" in creates["lb-3-keepalived"]
    haproxy_creates = {r.inputs["create"] for r in _steps(recorder, "haproxy")}
    assert len(haproxy_creates) == 1  # the same haproxy.cfg on every LB host
    assert "server cp-3 192.0.2.23:6443 check check-ssl verify none" in haproxy_creates.pop()


def test_the_vrrp_password_reaches_only_stdin_as_a_secret() -> None:
    recorder = _run(2, PASSWORD)
    for reg in recorder.registrations.values():
        outside_stdin = {k: v for k, v in reg.inputs.items() if k != "stdin"}
        assert PASSWORD not in json.dumps(outside_stdin), reg.name
    for reg in _steps(recorder, "keepalived"):
        assert reg.raw_inputs["stdin"] == {mockrun.SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": PASSWORD}
        assert "__KEEPALIVED_AUTH_PASS__" in reg.inputs["create"]
    for reg in _steps(recorder, "haproxy"):
        assert "stdin" not in reg.inputs


def test_without_a_password_there_is_no_auth_and_no_stdin() -> None:
    recorder = _run(2, None)
    for reg in _steps(recorder, "keepalived"):
        assert "stdin" not in reg.inputs
        assert "authentication" not in reg.inputs["create"]
        assert "export VRRP_AUTH=false" in reg.inputs["create"]
