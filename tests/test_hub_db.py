"""The hub database's local volume: config rules (dotted paths), manifests, chart facts, and the script."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from components.common.shell import render_script
from components.jupyterhub import hub_db
from components.jupyterhub.values import render_values
from config.hub_database import HUB_DB_STORAGE_CLASS
from config.hub_queries import hub_db_node
from config.platform import PlatformConfig
from tests.helpers import load_upstream_yaml, require_tool, shellcheck
from tests.hub_fixtures import raw
from tests.test_hub_config import issues
from tests.test_jupyterhub_values import STORAGE, deep_merge, schema_errors, stack_hubs

NODE = "hubs.0.database.node"
CLASS = "hubs.0.database.storage_class"
GPU_NODE = {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "H100-80GB", "count": 1}}


def with_nodes(config: dict[str, Any], *nodes: dict[str, Any], first: bool = False) -> dict[str, Any]:
    config = copy.deepcopy(config)
    listed = config["inventory"]["nodes"]
    config["inventory"]["nodes"] = [*nodes, *listed] if first else [*listed, *nodes]
    return config


def existing(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "cluster": {"mode": "existing"}}


# ---- which node ----


PROD_PLACEMENT = {"teaching": "worker-1", "exam": "worker-1", "grading": "worker-1"}  # the default: first CPU worker


@pytest.mark.parametrize(("stack", "nodes"), [("dev", {"dev": "dev-1"}), ("prod", PROD_PLACEMENT)])
def test_committed_stacks_place_each_hub_database_on_a_cpu_worker(stack: str, nodes: dict[str, str]) -> None:
    placed = {}
    for cfg, hub in stack_hubs(stack):
        volume = hub_db.hub_db_volume(cfg, hub)
        assert volume is not None
        placed[hub.name] = volume.node
        node = next(n for n in cfg.inventory.nodes if n.name == volume.node)
        assert node.gpu is None and "worker" in node.roles
    assert placed == nodes


def test_default_node_is_the_first_worker_without_gpus_or_blocking_taints() -> None:
    tainted = {"name": "busy-1", "address": "192.0.2.61", "roles": ["worker"],
               "taints": [{"key": "dedicated", "value": "batch"}]}  # fmt: skip
    config = with_nodes(raw(), GPU_NODE, tainted, first=True)
    cfg = PlatformConfig.model_validate(config)
    node = hub_db_node(cfg, cfg.hubs[0])
    assert node is not None and node.name == "cp-1"  # cp-1 is control-plane+worker: schedulable, untainted
    assert NODE not in issues(config)


def test_core_taint_is_tolerated_by_the_hub_pod() -> None:
    core = {"name": "core-1", "address": "192.0.2.61", "roles": ["worker"],
            "taints": [{"key": "hub.jupyter.org/dedicated", "value": "core"}]}  # fmt: skip
    config = with_nodes(raw(database={"node": "core-1"}), core)
    assert NODE not in issues(config)


@pytest.mark.parametrize(
    ("node", "extra", "words"),
    [
        ("nowhere-1", None, "unknown node 'nowhere-1'"),
        ("nfs-1", {"name": "nfs-1", "address": "192.0.2.51", "roles": ["nfs"]}, "no worker role"),
        ("cp-2", {"name": "cp-2", "address": "192.0.2.22", "roles": ["control-plane"]}, "no worker role"),
        ("gpu-1", GPU_NODE, "GPU node"),
        ("busy-1", {"name": "busy-1", "address": "192.0.2.61", "roles": ["worker"],
                    "taints": [{"key": "dedicated", "value": "batch", "effect": "NoExecute"}]}, "dedicated=batch:NoExecute"),
    ],
)  # fmt: skip
def test_a_named_node_must_exist_and_be_schedulable_for_the_hub(node: str, extra: dict[str, Any] | None, words: str) -> None:
    config = raw(database={"node": node})
    if extra is not None:
        config = with_nodes(config, extra)
    found = issues(config)
    assert words in found[NODE]


def test_no_eligible_default_node_is_reported_at_the_node_field() -> None:
    config = raw()
    config["inventory"]["nodes"] = [
        {"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane", "nfs"]},
        GPU_NODE,
    ]
    assert "name a node or use postgres" in issues(config)[NODE]


@pytest.mark.parametrize(
    ("database", "path", "words"),
    [
        ({"type": "postgres", "url": "postgresql://jhub@db/x", "node": "cp-1"}, NODE, "only a sqlite-pvc"),
        ({"storage_class": "local-path", "node": "cp-1"}, NODE, "unset storage_class"),
        ({"storage_class": HUB_DB_STORAGE_CLASS}, CLASS, "leave storage_class unset"),
        ({"storage_class": "nfs-retain"}, CLASS, "must not live on NFS"),
    ],
)
def test_database_field_combinations(database: dict[str, Any], path: str, words: str) -> None:
    secrets = {"ssh_private_key", "hub_teaching_oauth_client_secret", "hub_teaching_db_password"}
    assert words in issues(raw(database=database), secrets)[path]


def test_existing_mode_requires_a_storage_class_and_takes_no_node() -> None:
    secrets = {"kubeconfig", "hub_teaching_oauth_client_secret"}
    found = issues(existing(raw()), secrets)
    assert "cluster.mode existing" in found[CLASS] and "name a StorageClass" in found[CLASS]
    assert "kubeadm mode" in issues(existing(raw(database={"node": "cp-1", "storage_class": "standard"})), secrets)[NODE]
    ok = existing(raw(database={"storage_class": "standard"}))
    assert not [p for p in issues(ok, secrets) if p.startswith("hubs.0.database")]
    cfg = PlatformConfig.model_validate(ok)
    assert hub_db.hub_db_volume(cfg, cfg.hubs[0]) is None
    assert render_values(cfg, cfg.hubs[0], STORAGE)["hub"]["db"]["pvc"]["storageClassName"] == "standard"


# ---- manifests and values ----


def test_storage_class_and_volume_pass_kubernetes_validate_strict() -> None:
    cfg = PlatformConfig.model_validate(raw(database={"size_gib": 5, "node": "worker-1"}))
    volume = hub_db.hub_db_volume(cfg, cfg.hubs[0])
    assert volume is not None
    sc, pv = hub_db.storage_class(), hub_db.persistent_volume(volume)
    for doc in (sc, pv):
        kubernetes_validate.validate(doc, "1.34", strict=True)
    assert (sc["provisioner"], sc["volumeBindingMode"], sc["reclaimPolicy"]) == (
        "kubernetes.io/no-provisioner", "WaitForFirstConsumer", "Retain")  # fmt: skip
    spec = pv["spec"]
    assert spec["capacity"] == {"storage": "5Gi"} and spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["storageClassName"] == HUB_DB_STORAGE_CLASS
    assert spec["local"] == {"path": "/var/lib/jupyterhub-platform/hub-db/teaching"}
    (term,) = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term == {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-1"]}]}
    assert spec["claimRef"] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "jhub-teaching",
                                "name": "hub-db-dir"}  # fmt: skip
    # A strict validator rejects a typo, so the check above means something.
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**pv, "spec": {**spec, "claimref": {}}}, "1.34", strict=True)


def test_claim_values_match_the_volume_and_the_chart_schema() -> None:
    cfg = PlatformConfig.model_validate(raw(database={"size_gib": 5}))
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    assert values["hub"]["db"] == {
        "type": "sqlite-pvc",
        "pvc": {"storage": "5Gi", "accessModes": ["ReadWriteOnce"], "storageClassName": HUB_DB_STORAGE_CLASS,
                "selector": {"matchLabels": {"jupyterhub-platform/hub-db": "teaching"}}},
    }  # fmt: skip
    volume = hub_db.hub_db_volume(cfg, cfg.hubs[0])
    assert volume is not None
    assert hub_db.persistent_volume(volume)["metadata"]["labels"]["jupyterhub-platform/hub-db"] == "teaching"
    assert schema_errors(values) == []
    own = PlatformConfig.model_validate(raw(database={"storage_class": "local-path"}))
    own_values = render_values(own, own.hubs[0], STORAGE)
    assert own_values["hub"]["db"]["pvc"] == {
        "storage": "1Gi",
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "local-path",
    }
    assert hub_db.hub_db_volume(own, own.hubs[0]) is None and schema_errors(own_values) == []


def test_chart_facts_the_volume_relies_on() -> None:
    """z2jh 4.4.0: claim `<fullname->hub-db-dir` with fullnameOverride "" (so `hub-db-dir`); hub uid/gid 1000."""
    defaults = load_upstream_yaml("z2jh-4.4.0-values.yaml")
    assert defaults["fullnameOverride"] == "" and hub_db.CHART_CLAIM == "hub-db-dir"
    hub = defaults["hub"]
    assert hub["containerSecurityContext"]["runAsUser"] == hub_db.HUB_UID
    assert hub["containerSecurityContext"]["runAsGroup"] == hub_db.HUB_GID
    assert hub["podSecurityContext"]["fsGroup"] == hub_db.HUB_GID
    assert {"selector", "storageClassName", "storage", "accessModes"} <= set(hub["db"]["pvc"])
    for cfg, hub_cfg in [*stack_hubs("dev"), *stack_hubs("prod")]:
        values = render_values(cfg, hub_cfg, STORAGE)
        assert "fullnameOverride" not in values and "nameOverride" not in values
        # The PV's node affinity places the hub pod: nothing may require other nodes.
        merged = deep_merge(defaults, values)
        assert merged["hub"]["nodeSelector"] == {} and merged["hub"]["tolerations"] == []
        assert merged["scheduling"]["corePods"]["nodeAffinity"]["matchNodePurpose"] != "require"
        assert "affinity" not in merged["hub"].get("extraPodSpec", {})


# ---- the directory script ----


def test_rendered_script_is_shellcheck_clean_and_never_deletes(tmp_path: Path) -> None:
    cfg = PlatformConfig.model_validate(raw())
    volume = hub_db.hub_db_volume(cfg, cfg.hubs[0])
    assert volume is not None
    script = hub_db.directory_script(volume)
    shellcheck(script.text, tmp_path)
    assert "export DB_DIR=/var/lib/jupyterhub-platform/hub-db/teaching" in script.text
    assert "export DB_UID=1000" in script.text and "export DB_GID=1000" in script.text
    body = (hub_db.SCRIPTS / "hub-db-dir.sh").read_text()
    assert "rm " not in body and "rmdir" not in body and "chown -R" not in body


def _run(tmp_path: Path, base: Path, db_dir: Path, uid: int, gid: int) -> subprocess.CompletedProcess[str]:
    params: dict[str, str | int | bool] = {"BASE_DIR": str(base), "DB_DIR": str(db_dir), "DB_UID": uid, "DB_GID": gid}
    script = render_script("hub-db-dir-test", hub_db.SCRIPTS / "hub-db-dir.sh", params)
    path = tmp_path / "step.sh"
    path.write_text(script.text)
    return subprocess.run([require_tool("bash"), str(path)], capture_output=True, text=True, timeout=60)


def test_script_creates_the_directory_once_and_keeps_its_data(tmp_path: Path) -> None:
    uid, gid = (1000, 1000) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    base = tmp_path / "hub-db"
    db_dir = base / "teaching"
    first = _run(tmp_path, base, db_dir, uid, gid)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stderr
    st = db_dir.stat()
    assert (st.st_uid, st.st_gid) == (uid, gid) and st.st_mode & 0o777 == 0o700
    (db_dir / "jupyterhub.sqlite").write_text("data")
    db_dir.chmod(0o2775)  # what kubelet's fsGroup handling adds, plus a stray "other" bit
    second = _run(tmp_path, base, db_dir, uid, gid)
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stderr and "existing hub database" in second.stderr
    assert (db_dir / "jupyterhub.sqlite").read_text() == "data"
    assert db_dir.stat().st_mode & 0o7777 == 0o2770


def test_script_refuses_symlinks_and_paths_outside_its_base(tmp_path: Path) -> None:
    base = tmp_path / "hub-db"
    uid, gid = os.getuid(), os.getgid()
    outside = _run(tmp_path, base, tmp_path / "elsewhere", uid, gid)
    assert outside.returncode != 0 and "direct child" in outside.stderr
    nested = _run(tmp_path, base, base / "a" / "b", uid, gid)
    assert nested.returncode != 0 and "direct child" in nested.stderr
    base.mkdir()
    (base / "teaching").symlink_to(tmp_path)
    linked = _run(tmp_path, base, base / "teaching", uid, gid)
    assert linked.returncode != 0 and "symbolic link" in linked.stderr
