"""The Pulumi entry point (config read through pulumi.Config) and the existing-cluster mode."""

from __future__ import annotations

import base64
import copy
import json
import runpy
from pathlib import Path

import pulumi
import pytest
import yaml

from config.loader import load_platform
from config.pulumi_source import PROJECT
from config.secrets import required_secrets
from tests.helpers import ROOT, run_stack, stack_raw
from tools import mockrun


def stack_config(stack: str) -> dict[str, str]:
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k: json.dumps(v) for k, v in raw.items()}


def run_main(config: dict[str, str], secret_keys: list[str]) -> mockrun.Recorder:
    def program() -> dict[str, object]:
        pulumi.runtime.set_all_config(config, secret_keys)
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        return {}

    return mockrun.run(PROJECT, "dev", program)


def secret_value(key: str) -> str:
    # Encryption keys are checked for their shape (32 bytes, base64) when `pulumi up` reads them.
    if key.startswith("encryption_key_"):
        return base64.b64encode(key.encode().ljust(32, b"-")[:32]).decode()
    return f"value-of-{key}"


def test_main_reads_pulumi_config_and_builds_the_stack() -> None:
    raw, _ = stack_raw("dev")
    needed = {r.key for r in required_secrets(load_platform(raw, set(), missing_secrets_ok=True))}
    secrets = {f"{PROJECT}:{key}": secret_value(key) for key in needed} | {f"{PROJECT}:ssh_private_key": "KEY-MATERIAL"}
    recorder = run_main(stack_config("dev") | secrets, sorted(secrets))
    init = recorder.named("dev-1-kubeadm-init")
    assert init.inputs["connection"]["privateKey"] == "KEY-MATERIAL"
    assert init.raw_inputs["connection"] != init.inputs["connection"], "the key must travel as a secret"
    # Every secret value set in config stays wrapped as a secret in every resource's inputs.
    for reg in recorder.registrations.values():
        visible = json.dumps(mockrun.redact(reg.raw_inputs))
        assert "value-of-" not in visible and "KEY-MATERIAL" not in visible, reg.name


def test_main_refuses_bad_config_before_any_resource(caplog: pytest.LogCaptureFixture) -> None:
    config = stack_config("dev")
    bad = json.loads(config[f"{PROJECT}:cluster"]) | {"pod_cidr": "10.96.0.0/16"}
    config[f"{PROJECT}:cluster"] = json.dumps(bad)
    with pytest.raises(Exception, match="problem"):
        run_main(config, [])
    recorder = mockrun.install(PROJECT, "dev")
    assert not recorder.registrations


def test_existing_cluster_mode_installs_only_the_platform_layer(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    cfg = copy.deepcopy(raw)
    cfg["config"]["jupyterhub-platform:cluster"]["mode"] = "existing"
    # A laptop cluster has no SSH access: homes come from an existing NFS server.
    nodes = cfg["config"]["jupyterhub-platform:inventory"]["nodes"]
    nodes[0]["roles"] = ["worker"]
    cfg["config"]["jupyterhub-platform:nfs"] = {"mode": "external", "server": "192.0.2.200", "export_path": "/export/hub"}
    # No SSH either for the hub database's local volume: the laptop cluster's own class holds it.
    cfg["config"]["jupyterhub-platform:hubs"][0]["database"] = {"storage_class": "standard"}
    # Nor MetalLB: the laptop cluster's own load balancer serves the hub's LoadBalancer Service.
    cfg["config"]["jupyterhub-platform:traffic"] = {"external_load_balancer": True}
    path = tmp_path / "Pulumi.laptop.yaml"
    path.write_text(yaml.safe_dump(cfg))
    recorder = run_stack("laptop", path)
    assert recorder.by_type("command:remote:Command") == [], "no node is touched over SSH"
    providers = recorder.by_type("pulumi:providers:kubernetes")
    assert [p.name for p in providers] == ["existing-cluster"]
    assert providers[0].raw_inputs["kubeconfig"] != providers[0].inputs["kubeconfig"], "kubeconfig must be secret"
    assert "kubeconfig" in recorder.secret_outputs


def test_pinned_host_keys_and_bastion_reach_every_connection(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
    raw["config"]["jupyterhub-platform:inventory"]["nodes"][0]["ssh"] = {"host_key": host_key, "port": 2222}
    raw["config"]["jupyterhub-platform:ssh"]["bastion"] = {"host": "bastion.example.org", "user": "jump"}
    path = tmp_path / "Pulumi.pinned.yaml"
    path.write_text(yaml.safe_dump(raw))
    recorder = run_stack("pinned", path)
    commands = recorder.by_type("command:remote:Command")
    assert commands
    for cmd in commands:
        conn = cmd.inputs["connection"]
        assert conn["hostKey"] == host_key and conn["port"] == 2222
        assert conn["proxy"]["host"] == "bastion.example.org" and conn["proxy"]["user"] == "jump"
        assert conn["dialErrorLimit"] == 40 and conn["perDialTimeout"] == 15
