"""NFS renderers: manifests (kubernetes-validate --strict), the export line, and the host scripts
(shellcheck, then run for real against stub tools to prove they are idempotent)."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.nfs_storage import manifests
from components.nfs_storage.component import client_script, directory_script, server_script
from components.yunikorn.queues import render_queues_yaml
from config.loader import load_platform
from config.nfs import NfsConfig
from config.nfs_queries import nfs_export_clients
from config.platform import PlatformConfig
from tests.helpers import shellcheck, stack_raw

CLIENTS = ["192.0.2.21", "192.0.2.31"]


def cfg(stack: str) -> PlatformConfig:
    raw, _ = stack_raw(stack)
    return load_platform(copy.deepcopy(raw), set(), missing_secrets_ok=True)


def all_manifests(settings: NfsConfig) -> list[dict[str, Any]]:
    docs = [manifests.storage_class(settings, "192.0.2.51")]
    for volume in [manifests.homes_volume(settings, "jhub-main"), *manifests.shared_volumes(settings, "jhub-main")]:
        docs += [manifests.persistent_volume(volume, settings, "192.0.2.51"), manifests.persistent_volume_claim(volume)]
    return docs


def test_manifests_are_valid_kubernetes_1_34_strict() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    c = cfg("prod")
    docs = all_manifests(c.nfs)
    docs.append({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "yunikorn-configs", "namespace": "yunikorn"},
        "data": {"queues.yaml": render_queues_yaml(c.scheduler, "nvidia.com/gpu")},
    })  # fmt: skip
    for doc in docs:
        kubernetes_validate.validate(doc, "1.34", strict=True)
    bad = copy.deepcopy(docs[1])
    bad["spec"]["reclaimPolicy"] = "Retain"  # a typo of persistentVolumeReclaimPolicy: strict mode must refuse it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.34", strict=True)


def test_volumes_are_retained_and_pre_bound() -> None:
    settings = cfg("prod").nfs
    home = manifests.homes_volume(settings, "jhub-main")
    pv = manifests.persistent_volume(home, settings, "192.0.2.51")
    pvc = manifests.persistent_volume_claim(home)
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pv["spec"]["nfs"] == {"server": "192.0.2.51", "path": "/srv/nfs/jupyterhub/homes/jhub-main"}
    assert pv["spec"]["claimRef"] == {"namespace": "jhub-main", "name": "homes"}
    assert pv["spec"]["mountOptions"] == ["nfsvers=4.1", "hard", "timeo=600", "retrans=3", "noatime"]
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"] and pvc["spec"]["storageClassName"] == ""
    assert pvc["metadata"]["namespace"] == "jhub-main"
    shared = manifests.shared_volumes(settings, "jhub-main")
    assert [v.path for v in shared] == ["/srv/nfs/jupyterhub/shared/datasets", "/srv/nfs/jupyterhub/shared/course-material"]
    assert len({v.pv_name for v in [home, *shared, *manifests.shared_volumes(settings, "jhub-other")]}) == 5


def test_storage_class_keeps_data() -> None:
    sc = manifests.storage_class(cfg("prod").nfs, "192.0.2.51")
    assert sc["reclaimPolicy"] == "Retain" and sc["parameters"]["onDelete"] == "retain"
    assert sc["provisioner"] == "nfs.csi.k8s.io"
    assert sc["parameters"]["share"] == "/srv/nfs/jupyterhub/dynamic"
    assert "annotations" not in sc["metadata"]


def test_csi_values() -> None:
    values = manifests.csi_values(2)
    assert values["controller"]["replicas"] == 2
    assert values["controller"]["defaultOnDeletePolicy"] == "retain"
    affinity = values["controller"]["affinity"]
    term = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term == {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "csi-nfs-controller"}}}
    # The chart renders the affinity only when its text holds `nodeSelectorTerms` (chart 4.13.4 template):
    # the same test the chart's `contains` makes on the rendered map.
    assert "nodeSelectorTerms" in str(affinity)
    assert values["storageClass"] == {"create": False}


OPTIONS = "(rw,sync,no_subtree_check,all_squash,anonuid=1000,anongid=100)"


def test_export_is_limited_to_the_kubernetes_nodes() -> None:
    c = cfg("prod")
    clients = nfs_export_clients(c)
    # Control planes and workers (the GPU worker too), not the load balancers, not the NFS host, not the /24.
    assert clients == ["192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.31", "192.0.2.32", "192.0.2.41"]
    line = manifests.exports_line(c.nfs, clients)
    assert line == "/srv/nfs/jupyterhub " + " ".join(f"{a}{OPTIONS}" for a in clients)
    assert "192.0.2.0/24" not in line and "192.0.2.11" not in line and "192.0.2.51" not in line
    assert "no_root_squash" not in line and "*" not in line
    assert nfs_export_clients(cfg("dev")) == ["192.0.2.100"]
    with pytest.raises(ValueError):
        manifests.exports_line(c.nfs, [])


def test_export_clients_follow_the_inventory_and_extra_networks() -> None:
    raw, _ = stack_raw("prod")
    raw = copy.deepcopy(raw)
    raw["inventory"]["nodes"].append({"name": "worker-3", "address": "192.0.2.33", "roles": ["worker"]})
    raw["inventory"]["nodes"] = [n for n in raw["inventory"]["nodes"] if n["name"] != "worker-1"]
    raw["nfs"]["extra_client_networks"] = ["198.51.100.0/28", "192.0.2.64/29"]
    c = load_platform(raw, set(), missing_secrets_ok=True)
    clients = nfs_export_clients(c)
    assert clients == [
        "192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.32", "192.0.2.33", "192.0.2.41",
        "192.0.2.64/29", "198.51.100.0/28",
    ]  # fmt: skip
    before = server_script(cfg("prod").nfs, nfs_export_clients(cfg("prod")))
    after = server_script(c.nfs, clients)
    assert before.text != after.text  # a changed node set changes the step, which re-runs and re-exports


def test_scripts_pass_shellcheck(tmp_path: Path) -> None:
    settings = cfg("prod").nfs
    scripts = [server_script(settings, CLIENTS), client_script(), directory_script("nfs-homes-x", settings, "/srv/nfs/x")]
    for script in scripts:
        shellcheck(script.text, tmp_path, f"{script.name}.sh")
    for source in sorted((Path(manifests.__file__).parent / "scripts").glob("*.sh")):
        shellcheck(source.read_text(), tmp_path, source.name)


STUBS = {
    # Package tools: report "installed" once apt-get has run (recorded in $STATE/installed).
    "dpkg-query": '[[ -f "$STATE/installed" ]] && echo "install ok installed" || exit 1',
    "apt-get": 'echo "apt-get $*" >>"$STATE/calls"; [[ "$*" == *install* ]] && touch "$STATE/installed"; exit 0',
    "dpkg": 'echo "dpkg $*" >>"$STATE/calls"; exit 0',
    # exportfs -v prints each export's path, then its clients (indented on the next line for long paths).
    "exportfs": (
        'echo "exportfs $*" >>"$STATE/calls"\n'
        'if [[ "$1" == -ra ]]; then\n'
        '  grep "^/" "$STATE/etc/exports.d/"*.exports | while read -r path clients; do\n'
        '    printf "%s\\n" "$path"; for c in $clients; do printf "\\t\\t%s\\n" "$c"; done\n'
        '  done >"$STATE/exported"\n'
        "fi\n"
        'if [[ "$1" == -v ]]; then cat "$STATE/exported" 2>/dev/null; fi\n'
        "exit 0"
    ),
}


def _run(script_text: str, tmp_path: Path, state: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    # HOST_ROOT: the script writes below the state directory, never to this machine's /etc.
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(state), "HOST_ROOT": str(state)}
    return subprocess.run(["bash", "-c", script_text], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0, reason="the server script chowns directories (needs root)")
def test_server_script_runs_twice_without_changes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "etc/exports.d").mkdir(parents=True)
    settings = cfg("prod").nfs
    script = server_script(settings, CLIENTS)
    first = _run(script.text, tmp_path, state)
    assert first.returncode == 0, first.stderr
    export = Path(f"{state}{settings.export_path}")
    for sub in ("homes", "shared/datasets", "shared/course-material", "dynamic"):
        assert (export / sub).is_dir() and (export / sub).stat().st_uid == 1000 and (export / sub).stat().st_gid == 100
    calls = (state / "calls").read_text()
    assert "exportfs -ra" in calls and "install" in calls
    # User data below the platform's directories keeps its owner on a second run.
    (export / "homes" / "alice").mkdir()
    os.chown(export / "homes" / "alice", 4242, 4242)
    (state / "calls").write_text("")
    second = _run(script.text, tmp_path, state)
    assert second.returncode == 0, second.stderr
    assert "exportfs -ra" not in (state / "calls").read_text() and "apt-get" not in (state / "calls").read_text()
    assert (export / "homes" / "alice").stat().st_uid == 4242
    # The export drop-in changed on the host: the next run puts it back and re-exports.
    (state / "etc/exports.d/jupyterhub-platform.exports").write_text("/tmp *(rw,no_root_squash)\n")
    third = _run(script.text, tmp_path, state)
    assert third.returncode == 0, third.stderr
    assert "exportfs -ra" in (state / "calls").read_text()
    assert "all_squash" in (state / "etc/exports.d/jupyterhub-platform.exports").read_text()
    assert (state / "exported").read_text().splitlines() == [settings.export_path, *(f"\t\t{c}{OPTIONS}" for c in CLIENTS)]


@pytest.mark.skipif(os.geteuid() != 0, reason="the server script chowns directories (needs root)")
def test_server_script_matches_the_exact_export_path(tmp_path: Path) -> None:
    """Only `<export>2` (or `<export>/sub`) is exported: the export itself is not, so exportfs must run."""
    state = tmp_path / "state"
    (state / "etc/exports.d").mkdir(parents=True)
    settings = cfg("prod").nfs
    script = server_script(settings, CLIENTS)
    assert _run(script.text, tmp_path, state).returncode == 0
    # The drop-in is current (no change), but the kernel's table lost the export; look-alikes remain.
    (state / "exported").write_text(f"{settings.export_path}2\n\t\t192.0.2.21(rw)\n{settings.export_path}/homes 192.0.2.21(rw)\n")
    (state / "calls").write_text("")
    again = _run(script.text, tmp_path, state)
    assert again.returncode == 0, again.stderr
    assert "exportfs -ra" in (state / "calls").read_text()
    assert settings.export_path in (state / "exported").read_text().splitlines()


def test_client_script_installs_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mount.nfs").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "mount.nfs").chmod(0o755)
    first = _run(client_script().text, tmp_path, state)
    assert first.returncode == 0, first.stderr
    assert "install -y -q --no-install-recommends nfs-common" in (state / "calls").read_text()
    (state / "calls").write_text("")
    second = _run(client_script().text, tmp_path, state)
    assert second.returncode == 0 and (state / "calls").read_text() == ""
