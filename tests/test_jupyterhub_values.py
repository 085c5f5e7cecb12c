"""z2jh values: valid against the upstream 4.4.0 schema after merging over the chart defaults, and
what the platform promises (YuniKorn, NFS homes, no SQLite on NFS, network policy, no secrets)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from components.jupyterhub.network import blocked_ranges
from components.jupyterhub.values import HubStorage, SharedMount, render_values
from config.hubs import HubConfig
from config.platform import PlatformConfig
from tests.helpers import ROOT, load_upstream_yaml
from tests.hub_fixtures import platform

STORAGE = HubStorage("homes", (SharedMount("course", "shared-course", "/home/jovyan/shared", True),))


def deep_merge(base: Any, override: Any) -> Any:
    """Helm's merge: maps merge key by key, lists and scalars replace."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return copy.deepcopy(override)


@cache
def _schema() -> Draft7Validator:
    return Draft7Validator(load_upstream_yaml("z2jh-4.4.0-values.schema.yaml"))


def schema_errors(values: dict[str, Any]) -> list[str]:
    values = copy.deepcopy(values)
    values.setdefault("proxy", {})["secretToken"] = "0" * 64  # what the component adds as a secret Output
    merged = deep_merge(load_upstream_yaml("z2jh-4.4.0-values.yaml"), values)
    return [f"{list(e.path)}: {e.message}" for e in _schema().iter_errors(merged)]


def stack_hubs(stack: str) -> list[tuple[PlatformConfig, HubConfig]]:
    from tools.render import load_for_render

    cfg, _, _ = load_for_render(ROOT / f"Pulumi.{stack}.yaml")
    return [(cfg, hub) for hub in cfg.hubs]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_hub_of_the_stack_is_valid_against_the_chart_schema(stack: str) -> None:
    hubs = stack_hubs(stack)
    assert hubs, f"Pulumi.{stack}.yaml configures no hub"
    for cfg, hub in hubs:
        assert schema_errors(render_values(cfg, hub, STORAGE)) == [], hub.name


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "generic-oauth", "client_id": "c", "authorize_url": "https://i/a", "token_url": "https://i/t",
         "userdata_url": "https://i/u", "allowed_groups": ["students"], "admin_groups": ["staff"]},
        {"type": "github", "client_id": "c", "allowed_organizations": ["uni-course"], "admin_teams": ["uni-course:staff"]},
        {"type": "globus", "client_id": "c", "identity_provider": "uni.edu"},
        {"type": "ldap", "server_address": "ldap.uni.edu", "bind_dn_template": ["uid={username},ou=people,dc=uni,dc=edu"]},
        {"type": "native", "open_signup": False},
    ],
)  # fmt: skip
def test_every_authenticator_renders_valid_values(auth: dict[str, Any]) -> None:
    cfg = platform(auth=auth)
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    assert schema_errors(values) == []
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] != "dummy"


def test_a_typo_in_the_values_would_be_caught() -> None:
    cfg = platform()
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    values["singleuser"]["storage"]["static"]["subpath"] = "{username}"
    assert any("subpath" in e for e in schema_errors(values))


def test_yunikorn_scheduling_and_queue_friendly_spawns() -> None:
    cfg = platform()
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    assert values["hub"]["config"]["KubeSpawner"] == {"scheduler_name": "yunikorn", "delete_pvc": False}
    assert values["scheduling"]["userScheduler"]["enabled"] is False
    assert values["scheduling"]["userPlaceholder"]["enabled"] is False
    assert values["singleuser"]["startTimeout"] == 1800
    assert values["singleuser"]["events"] is True
    assert values["hub"]["concurrentSpawnLimit"] == 500
    profiles = {p["slug"]: p for p in values["singleuser"]["profileList"]}
    assert profiles["small"]["kubespawner_override"]["extra_labels"]["yunikorn.apache.org/queue"] == "root.users"
    assert profiles["large"]["kubespawner_override"]["cpu_guarantee"] == 4
    assert profiles["large"]["kubespawner_override"]["mem_guarantee"] == "16G"
    assert profiles["small"]["kubespawner_override"]["environment"] == {"NVIDIA_VISIBLE_DEVICES": "void"}
    assert [p["default"] for p in values["singleuser"]["profileList"]] == [True, False]
    assert values["custom"]["platform"]["profileGroups"] == {"large": ["staff"]}
    assert values["custom"]["platform"]["yunikorn"]["defaultQueue"] == "root.users"


def test_homes_on_nfs_subpath_shared_read_only_and_sqlite_off_nfs() -> None:
    cfg = platform()
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    storage = values["singleuser"]["storage"]
    assert storage["type"] == "static"
    assert storage["static"] == {"pvcName": "homes", "subPath": "{username}"}
    assert storage["extraVolumeMounts"] == [{"name": "shared-course", "mountPath": "/home/jovyan/shared", "readOnly": True}]
    assert values["custom"]["platform"]["yunikorn"]["adminWritableVolumes"] == ["shared-course"]
    files = values["singleuser"]["extraFiles"]
    assert all(not f["mountPath"].startswith("/home/") for f in files.values())
    dumped = json.dumps(files)
    assert ":memory:" in dumped and "/tmp/jupyter_file_id.db" in dumped and "/tmp/jupyter_ystore.db" in dumped
    assert values["hub"]["db"]["type"] == "sqlite-pvc"
    assert values["hub"]["db"]["pvc"]["storageClassName"] == "hub-db-local"  # the platform's local volume


def test_postgres_database_has_no_password_in_values() -> None:
    cfg = platform(database={"type": "postgres", "url": "postgresql+psycopg2://jhub@db.example.org:5432/t"})
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    assert values["hub"]["db"] == {"type": "postgres", "url": "postgresql+psycopg2://jhub@db.example.org:5432/t"}
    assert schema_errors(values) == []


def test_no_secret_material_in_plain_values() -> None:
    cfg = platform()
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    text = yaml.safe_dump(values)
    for key in ("cookieSecret", "secretToken", "client_secret:", "password:", "CryptKeeper"):
        assert key not in text
    assert values["hub"]["existingSecret"] == "hub-platform-secrets"
    env = values["hub"]["extraEnv"]["PLATFORM_OAUTH_CLIENT_SECRET"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "hub-platform-secrets", "key": "platform.oauth-client-secret"}


def test_network_policy_blocks_cluster_ranges_even_outside_rfc1918() -> None:
    cfg = platform()
    policy = render_values(cfg, cfg.hubs[0], STORAGE)["singleuser"]["networkPolicy"]
    rules = policy["egressAllowRules"]
    assert rules["privateIPs"] is False and rules["nonPrivateIPs"] is False and rules["cloudMetadataServer"] is False
    (rule,) = policy["egress"]
    block = rule["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    # 192.0.2.0/24 (NFS server, API VIP, control planes) is not RFC 1918: it must be excluded explicitly.
    assert "192.0.2.0/24" in block["except"]
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(block["except"])
    assert blocked_ranges(cfg) == block["except"]


def test_exam_lockdown_allows_only_hub_proxy_and_dns() -> None:
    cfg = platform(network={"lockdown": True})
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    policy = values["singleuser"]["networkPolicy"]
    assert policy["egress"] == [] and policy["ingress"] == []
    allowed = {k for k, v in policy["egressAllowRules"].items() if v}
    assert allowed == {"dnsPortsKubeSystemNamespace"}
    assert schema_errors(values) == []


@pytest.mark.parametrize(
    ("https", "expected"),
    [
        ({"mode": "letsencrypt", "contact_email": "ops@example.org"}, "letsencrypt"),
        ({"mode": "secret"}, "secret"),
        ({"mode": "offload"}, "offload"),
    ],
)
def test_https_modes(https: dict[str, Any], expected: str) -> None:
    cfg = platform(https=https)
    values = render_values(cfg, cfg.hubs[0], STORAGE)
    assert values["proxy"]["https"]["type"] == expected
    assert values["proxy"]["https"]["hosts"] == ["hub.example.org"]
    assert schema_errors(values) == []


def test_culling_is_configurable() -> None:
    cfg = platform(culling={"timeout_minutes": 30, "every_minutes": 5, "max_age_hours": 4})
    cull = render_values(cfg, cfg.hubs[0], STORAGE)["cull"]
    assert (cull["timeout"], cull["every"], cull["maxAge"], cull["users"]) == (1800, 300, 14400, False)


def test_profile_idle_timeout_is_enforced_in_the_server() -> None:
    profiles = [{"slug": "short", "display_name": "S", "queue": "root.users", "idle_timeout_minutes": 15}]
    cfg = platform(profiles=profiles)
    override = render_values(cfg, cfg.hubs[0], STORAGE)["singleuser"]["profileList"][0]["kubespawner_override"]
    assert "--ServerApp.shutdown_no_activity_timeout=900" in override["args"]
    assert "--MappingKernelManager.cull_idle_timeout=900" in override["args"]


def test_queue_waits_never_shut_the_hub_down() -> None:
    values = render_values(platform(), platform().hubs[0], STORAGE)
    # Spawns that time out in a YuniKorn queue are consecutive failures; the chart's default 5 stops the hub.
    assert values["hub"]["consecutiveFailureLimit"] == 0
    hub_schema = load_upstream_yaml("z2jh-4.4.0-values.schema.yaml")["properties"]["hub"]["properties"]
    assert "consecutiveFailureLimit" in hub_schema


def test_gpu_stack_pullers_tolerate_the_gpu_taint_and_gpu_profiles_get_cuda() -> None:
    (cfg, teaching), *_ = stack_hubs("prod")
    values = render_values(cfg, teaching, STORAGE)
    assert values["prePuller"]["extraTolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    gpu = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "gpu")
    image = gpu["kubespawner_override"]["image"]
    assert image.startswith("quay.io/jupyter/pytorch-notebook:cuda12-") and not image.endswith(":latest")
    (dev_cfg, dev_hub), *_ = stack_hubs("dev")
    assert render_values(dev_cfg, dev_hub, STORAGE)["prePuller"]["extraTolerations"] == []


def test_queue_access_is_rendered_for_the_profile_filter() -> None:
    (cfg, teaching), *_ = stack_hubs("prod")
    access = render_values(cfg, teaching, STORAGE)["custom"]["platform"]["queueAccess"]
    gpu_groups = ["admins", "gpu-users", "ml201-instructors", "ml201-students"]
    assert access["gpu"] == {"everyone": False, "users": [], "groups": gpu_groups}
    assert access["small"]["groups"] == ["admins", "cs101-instructors", "cs101-students", "students"]
