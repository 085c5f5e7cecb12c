"""Every configuration rule of the foundation: bad input fails with its dotted path, all at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.secrets import required_secrets
from tests.helpers import stack_raw


def all_secrets(raw: dict[str, Any]) -> set[str]:
    """Every secret the stack asks for, as if the operator had set them all."""
    cfg = load_platform(raw, set(), missing_secrets_ok=True)
    return {r.key for r in required_secrets(cfg)} | {"keepalived_auth_pass"}


SECRETS = all_secrets(stack_raw("prod")[0]) | all_secrets(stack_raw("dev")[0])


def prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    return copy.deepcopy(raw)


def dev() -> dict[str, Any]:
    raw, _ = stack_raw("dev")
    return copy.deepcopy(raw)


def errors(raw: dict[str, Any], secrets: set[str] = SECRETS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, secrets)
    return caught.value.lines()


def node(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in raw["inventory"]["nodes"] if n["name"] == name)


def test_committed_stacks_are_valid() -> None:
    for raw in (dev(), prod()):
        cfg = load_platform(raw, SECRETS)
        assert cfg.inventory.nodes


def test_unknown_keys_are_reported_with_their_path() -> None:
    raw = prod()
    raw["cluster"]["kubernetes_verison"] = "1.34.2"
    node(raw, "cp-1")["adress"] = "192.0.2.99"
    raw["clutser"] = {}
    lines = errors(raw)
    assert lines == [
        "error: cluster.kubernetes_verison: unknown key (did you mean `kubernetes_version`?)",
        "error: clutser: unknown config key (did you mean `cluster`?)",
        "error: inventory.nodes.2.adress: unknown key (did you mean `address`?)",
    ]


def test_wrong_types() -> None:
    raw = prod()
    raw["cluster"]["api_server_port"] = "many"
    node(raw, "worker-1")["address"] = "not-an-ip"
    lines = errors(raw)
    assert any(line.startswith("error: cluster.api_server_port: ") for line in lines)
    assert any(line.startswith("error: inventory.nodes.5.address: ") for line in lines)


def test_duplicate_names_and_addresses() -> None:
    raw = prod()
    node(raw, "worker-2")["name"] = "worker-1"
    node(raw, "gpu-1")["address"] = "192.0.2.31"
    lines = errors(raw)
    assert any(line.startswith("error: inventory.nodes.6.name: duplicate node name 'worker-1'") for line in lines)
    assert any(line.startswith("error: inventory.nodes.7.address: duplicate address 192.0.2.31") for line in lines)


@pytest.mark.parametrize("count", [0, 2, 4])
def test_even_or_zero_control_planes(count: int) -> None:
    raw = prod()
    cps = [n for n in raw["inventory"]["nodes"] if "control-plane" in n["roles"]]
    for n in cps[count:]:
        n["roles"] = ["worker"]
    for i in range(len(cps), count):
        raw["inventory"]["nodes"].append({"name": f"cp-x{i}", "address": f"192.0.2.{90 + i}", "roles": ["control-plane"]})
    lines = errors(raw)
    expected = "no node has the control-plane role" if count == 0 else f"{count} control planes: etcd needs an odd number"
    assert any(line.startswith("error: inventory.nodes: " + expected) for line in lines), lines


def test_vip_needs_two_load_balancers() -> None:
    raw = prod()
    node(raw, "lb-2")["roles"] = ["worker"]
    assert "error: load_balancer.vip: a VIP needs at least two load-balancer hosts, found 1" in errors(raw)


def test_two_load_balancers_need_a_vip() -> None:
    raw = prod()
    del raw["load_balancer"]["vip"]
    assert "error: load_balancer.vip: 2 load-balancer hosts need a VIP to share" in errors(raw)


def test_vip_equal_to_a_node_address() -> None:
    raw = prod()
    raw["load_balancer"]["vip"] = "192.0.2.21"
    assert "error: load_balancer.vip: the VIP 192.0.2.21 is the address of node 'cp-1' (nodes.2)" in errors(raw)


def test_overlapping_cidrs() -> None:
    raw = prod()
    raw["cluster"]["pod_cidr"] = "10.96.0.0/16"
    assert "error: cluster.pod_cidr: 10.96.0.0/16 overlaps cluster.service_cidr 10.96.0.0/12" in errors(raw)


def test_cidr_overlapping_the_node_network() -> None:
    raw = prod()
    raw["cluster"]["service_cidr"] = "192.0.2.128/25"
    raw["cluster"]["pod_cidr"] = "192.0.0.0/16"
    lines = errors(raw)
    assert "error: cluster.service_cidr: 192.0.2.128/25 overlaps inventory.node_network 192.0.2.0/24" in lines
    assert "error: cluster.pod_cidr: 192.0.0.0/16 overlaps inventory.node_network 192.0.2.0/24" in lines


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pod_cidr", "172.16.0.0/25", "smaller than one node's /24 pod range"),
        ("service_cidr", "10.0.0.0/8", "larger than the API server allows"),
    ],
)
def test_cidr_sizes(field: str, value: str, message: str) -> None:
    raw = prod()
    raw["cluster"][field] = value
    assert any(line.startswith(f"error: cluster.{field}: ") and message in line for line in errors(raw))


@pytest.mark.parametrize("path", ["endpoint.host", "extra_cert_sans.0"])
def test_names_for_certificates_must_be_host_names(path: str) -> None:
    raw = prod()
    if path == "endpoint.host":
        raw["cluster"]["endpoint"]["host"] = "bad host!"
    else:
        raw["cluster"]["extra_cert_sans"] = ["a b"]
    assert any(line.startswith(f"error: cluster.{path}: ") for line in errors(raw))


def test_taint_values_are_label_values() -> None:
    raw = prod()
    node(raw, "worker-1")["taints"] = [{"key": "dedicated", "value": "x y@TOKEN@"}]
    assert any(line.startswith("error: inventory.nodes.5.taints.0.value: ") for line in errors(raw))


def test_required_host_keys_cover_the_bastion() -> None:
    raw = dev()
    raw["ssh"]["require_host_keys"] = True
    raw["ssh"]["bastion"] = {"host": "bastion.example.org", "user": "jump"}
    node(raw, "dev-1")["ssh"] = {"host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"}
    assert errors(raw) == ["error: ssh.bastion.host_key: ssh.require_host_keys is set: pin the bastion's host key"]


def test_api_port_clash_when_haproxy_shares_a_control_plane_host() -> None:
    raw = prod()
    node(raw, "cp-1")["roles"] = ["control-plane", "load-balancer"]
    node(raw, "lb-1")["roles"] = ["worker"]
    lines = errors(raw)
    assert any(line.startswith("error: cluster.endpoint.port: node 'cp-1' runs HAProxy and an API server") for line in lines)
    raw["cluster"]["endpoint"]["port"] = 8443
    load_platform(raw, SECRETS)  # another port resolves it


@pytest.mark.parametrize("version", ["1.29.4", "1.34.2", "1.38.0", "latest"])
def test_unsupported_kubernetes_version(version: str) -> None:
    raw = prod()
    raw["cluster"]["kubernetes_version"] = version
    assert any(line.startswith("error: cluster.kubernetes_version: ") for line in errors(raw))


def test_node_without_role() -> None:
    raw = prod()
    node(raw, "worker-2")["roles"] = []
    assert any(line.startswith("error: inventory.nodes.6.roles: ") for line in errors(raw))


def test_missing_required_secret_names_the_command() -> None:
    lines = errors(prod(), secrets=set())
    assert (
        "error: ssh_private_key: missing secret (the SSH private key that logs in to every node); "
        "set it with: pulumi config set --secret ssh_private_key < ~/.ssh/id_ed25519"
    ) in lines


def test_existing_mode_requires_kubeconfig_not_ssh_key() -> None:
    raw = dev()
    raw["cluster"]["mode"] = "existing"
    lines = errors(raw, secrets=set())
    assert any(line.startswith("error: kubeconfig: missing secret") for line in lines)
    assert not any("ssh_private_key" in line for line in lines)


def test_secret_set_as_plain_value_is_refused() -> None:
    raw = dev()
    raw["ssh_private_key"] = "-----BEGIN OPENSSH PRIVATE KEY-----"
    assert "error: ssh_private_key: unknown config key (it is a secret: set it with --secret)" in errors(raw, set())


def test_all_errors_at_once() -> None:
    raw = prod()
    node(raw, "worker-2")["name"] = "worker-1"
    raw["load_balancer"]["vip"] = "192.0.2.21"
    raw["cluster"]["pod_cidr"] = "10.96.0.0/16"
    assert len(errors(raw, secrets=set())) >= 4


def test_nodes_outside_the_node_network() -> None:
    raw = dev()
    node(raw, "dev-1")["address"] = "198.51.100.7"
    assert "error: inventory.nodes.0.address: 198.51.100.7 is outside inventory.node_network 192.0.2.0/24" in errors(raw)


def test_multiple_control_planes_without_load_balancer() -> None:
    raw = prod()
    for n in raw["inventory"]["nodes"]:
        if n["name"].startswith("lb-"):
            n["roles"] = ["worker"]
    del raw["load_balancer"]["vip"]
    del raw["cluster"]["endpoint"]["host"]
    assert any(line.startswith("error: cluster.endpoint.host: 3 control planes need a load balancer") for line in errors(raw))


def test_required_host_keys() -> None:
    raw = dev()
    raw["ssh"]["require_host_keys"] = True
    assert "error: inventory.nodes.0.ssh.host_key: ssh.require_host_keys is set: pin this node's host key" in errors(raw)


@pytest.mark.parametrize("value", ["", "123456789", "pass word"])
def test_keepalived_password_is_checked_without_echoing_it(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_platform(prod(), SECRETS, secret_values={"keepalived_auth_pass": value})
    lines = caught.value.lines()
    assert len(lines) == 1 and lines[0].startswith("error: keepalived_auth_pass: must be 1 to 8 characters")
    assert value not in lines[0] or value == ""


def test_a_good_keepalived_password_passes() -> None:
    load_platform(prod(), SECRETS, secret_values={"keepalived_auth_pass": "a1b2c3d4"})
