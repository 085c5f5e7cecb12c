"""The hub's chart values compared whole, section by section (the parts other renderers own are
tested with them: auth, database, roles, network policy, traffic, profile list)."""

from __future__ import annotations

from typing import Any

import pytest

from components.jupyterhub.values import HubStorage, SharedMount, render_values, snippet
from config.platform import PlatformConfig
from tests import hub_fixtures
from tests.helpers import stack_platform

STORAGE = HubStorage("home", (SharedMount("data", "c-data", "/srv/data"), SharedMount("scratch", "c-scr", "/srv/scratch", False)))
PLATFORM_SECRET = "hub-platform-secrets"
NO_SQLITE_ON_NFS = {
    "jupyter-server-no-sqlite-on-nfs": {
        "mountPath": "/usr/local/etc/jupyter/jupyter_server_config.d/platform-no-sqlite-on-nfs.json",
        "data": {
            "BaseFileIdManager": {"db_path": "/tmp/jupyter_file_id.db"},
            "SQLiteYStore": {"db_path": "/tmp/jupyter_ystore.db"},
        },
    },
    "ipython-history-in-memory": {
        "mountPath": "/etc/ipython/ipython_config.json",
        "data": {"HistoryManager": {"hist_file": ":memory:"}},
    },
    "ipython-kernel-history-in-memory": {
        "mountPath": "/etc/ipython/ipython_kernel_config.json",
        "data": {"HistoryManager": {"hist_file": ":memory:"}},
    },
}


def values(**hub_changes: Any) -> dict[str, Any]:
    cfg = hub_fixtures.platform(**hub_changes)
    return render_values(cfg, cfg.hubs[0], STORAGE)


def test_default_hub_values() -> None:
    v = values()
    hub = v["hub"]
    assert {k: hub[k] for k in hub if k not in ("db", "loadRoles", "config", "extraConfig")} == {
        "existingSecret": PLATFORM_SECRET,
        "concurrentSpawnLimit": 500,
        "consecutiveFailureLimit": 0,
        "allowNamedServers": False,
        "namedServerLimitPerUser": 0,
        "extraEnv": {
            "PLATFORM_OAUTH_CLIENT_SECRET": {
                "name": "PLATFORM_OAUTH_CLIENT_SECRET",
                "valueFrom": {"secretKeyRef": {"name": PLATFORM_SECRET, "key": "platform.oauth-client-secret"}},
            }
        },
    }
    assert hub["config"]["KubeSpawner"] == {"scheduler_name": "yunikorn", "delete_pvc": False}
    assert hub["config"]["JupyterHub"] == {"authenticator_class": "oauthenticator.generic.GenericOAuthenticator"}
    assert hub["extraConfig"] == {
        "10-platform-auth": snippet("platform_auth.py"),
        "20-platform-profiles": snippet("platform_profiles.py"),
        "30-platform-yunikorn": snippet("platform_yunikorn.py"),
        "40-platform-courses": snippet("platform_courses.py"),
    }
    assert v["proxy"]["https"] == {
        "enabled": True,
        "type": "letsencrypt",
        "hosts": ["hub.example.org"],
        "letsencrypt": {"contactEmail": "ops@example.org", "acmeServer": "https://acme-v02.api.letsencrypt.org/directory"},
    }
    assert v["proxy"]["service"] == {"type": "LoadBalancer"}
    assert v["prePuller"] == {"extraTolerations": []}
    assert v["scheduling"] == {
        "userScheduler": {"enabled": False},
        "userPlaceholder": {"enabled": False},
        "podPriority": {"enabled": False},
    }
    single = {k: val for k, val in v["singleuser"].items() if k not in ("networkPolicy", "profileList")}
    assert single == {
        "image": {"name": "quay.io/jupyter/scipy-notebook", "tag": "2025-10-20"},
        "startTimeout": 1800,
        "events": True,
        "uid": 1000,
        "fsGid": 100,
        "cpu": {"guarantee": 0.5, "limit": 2},
        "memory": {"guarantee": "1G", "limit": "2G"},
        "cloudMetadata": {"blockWithIptables": False, "ip": "169.254.169.254"},
        "storage": {
            "type": "static",
            "static": {"pvcName": "home", "subPath": "{username}"},
            "homeMountPath": "/home/jovyan",
            "extraVolumes": [
                {"name": "shared-data", "persistentVolumeClaim": {"claimName": "c-data"}},
                {"name": "shared-scratch", "persistentVolumeClaim": {"claimName": "c-scr"}},
            ],
            "extraVolumeMounts": [
                {"name": "shared-data", "mountPath": "/srv/data", "readOnly": True},
                {"name": "shared-scratch", "mountPath": "/srv/scratch", "readOnly": False},
            ],
        },
        "extraFiles": NO_SQLITE_ON_NFS,
    }
    assert v["cull"] == {
        "enabled": True,
        "timeout": 3600,
        "every": 600,
        "maxAge": 0,
        "users": False,
        "adminUsers": True,
        "removeNamedServers": False,
    }
    platform = v["custom"]["platform"]
    assert platform["hub"] == "teaching"
    assert platform["profileGroups"] == {"large": ["staff"]}
    assert platform["yunikorn"] == {
        "defaultQueue": "root.users",
        "fallbackQueue": "root.system",
        "notebookGroup": "jupyterhub-platform-notebook",
        "adminWritableVolumes": ["shared-data"],
    }


def test_changed_hub_settings_reach_the_values() -> None:
    v = values(
        image="registry.example.org:5000/lab/img:v2",
        allow_named_servers=True,
        named_server_limit_per_user=3,
        active_server_limit=40,
        concurrent_spawn_limit=20,
        start_timeout_seconds=600,
        shared_folders=False,
        culling={"enabled": False, "timeout_minutes": 90, "every_minutes": 5, "max_age_hours": 8},
        profiles=[
            {"slug": "small", "display_name": "Small", "queue": "root.users"},
            {
                "slug": "big",
                "display_name": "Big",
                "queue": "root.users",
                "default": True,
                "cpu_guarantee": 3,
                "cpu_limit": 6,
                "mem_guarantee_gib": 1.5,
                "mem_limit_gib": 12,
            },
        ],
    )
    hub = v["hub"]
    assert (hub["allowNamedServers"], hub["namedServerLimitPerUser"], hub["activeServerLimit"], hub["concurrentSpawnLimit"]) == (
        True,
        3,
        40,
        20,
    )
    single = v["singleuser"]
    assert single["image"] == {"name": "registry.example.org:5000/lab/img", "tag": "v2"}
    assert single["startTimeout"] == 600
    assert single["cpu"] == {"guarantee": 3, "limit": 6}
    assert single["memory"] == {"guarantee": "1536M", "limit": "12G"}
    assert single["storage"]["extraVolumes"] == single["storage"]["extraVolumeMounts"] == []
    assert v["cull"] == {
        "enabled": False,
        "timeout": 5400,
        "every": 300,
        "maxAge": 8 * 3600,
        "users": False,
        "adminUsers": True,
        "removeNamedServers": False,
    }
    assert v["custom"]["platform"]["yunikorn"]["adminWritableVolumes"] == []
    assert "activeServerLimit" not in values()["hub"]


@pytest.mark.parametrize(
    ("https", "expected"),
    [
        ({"mode": "none"}, {"enabled": False}),
        (
            {"mode": "secret"},
            {
                "enabled": True,
                "type": "secret",
                "hosts": ["hub.example.org"],
                "secret": {"name": "hub-tls", "key": "tls.key", "crt": "tls.crt"},
            },
        ),
        ({"mode": "offload"}, {"enabled": True, "type": "offload", "hosts": ["hub.example.org"]}),
    ],
)
def test_https_modes(https: dict[str, Any], expected: dict[str, Any]) -> None:
    assert values(https=https)["proxy"]["https"] == expected


def test_node_ports_only_with_a_node_port_service() -> None:
    ports = {"http_node_port": 30080, "https_node_port": 30443}
    assert values(service_type="NodePort", **ports)["proxy"]["service"]["nodePorts"] == {"http": 30080, "https": 30443}
    assert values(service_type="NodePort", http_node_port=30080)["proxy"]["service"]["nodePorts"] == {"http": 30080}
    assert "nodePorts" not in values(service_type="NodePort")["proxy"]["service"]
    assert values(service_type="ClusterIP", **ports)["proxy"]["service"]["type"] == "ClusterIP"
    assert "nodePorts" not in values(service_type="ClusterIP", **ports)["proxy"]["service"]


def test_image_pullers_tolerate_the_gpu_taint_when_there_are_gpus() -> None:
    raw = hub_fixtures.raw()
    raw["inventory"]["nodes"].append(
        {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "H100-80GB", "count": 1}}
    )
    cfg = PlatformConfig.model_validate(raw)
    v = render_values(cfg, cfg.hubs[0], STORAGE)
    assert v["prePuller"] == {"extraTolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}


def test_metallb_address_joins_the_service_type() -> None:
    cfg = stack_platform("dev")
    v = render_values(cfg, cfg.hubs[0], STORAGE)
    assert v["proxy"]["service"] == {"type": "LoadBalancer", "loadBalancerIP": "192.0.2.240"}
