"""Two security renderers compared whole: what single-user servers may reach (the internet minus every
cluster-internal range, nothing in lockdown) and YuniKorn's values (only the hubs' service accounts may
set the user annotation, only the hubs' namespaces are scheduled, the UI stays ClusterIP)."""

from __future__ import annotations

import copy
from typing import Any

from components.jupyterhub.network import blocked_ranges, singleuser_network_policy
from components.yunikorn.values import hub_identity_regexes, process_namespaces, yunikorn_values
from config.platform import PlatformConfig
from config.scheduler import SchedulerConfig
from tests.hub_fixtures import HUB, INVENTORY


def platform(**network: Any) -> PlatformConfig:
    hub = {**copy.deepcopy(HUB), "network": network}
    cluster = {"pod_cidr": "100.64.0.0/16", "service_cidr": "100.65.0.0/16"}
    return PlatformConfig.model_validate({"inventory": copy.deepcopy(INVENTORY), "hubs": [hub], "cluster": cluster})


BLOCKED = ["10.0.0.0/8", "100.64.0.0/15", "169.254.0.0/16", "172.16.0.0/12", "192.0.2.0/24", "192.168.0.0/16"]


def policy(dns_private: bool, egress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "enabled": True,
        "egressAllowRules": {
            "cloudMetadataServer": False,
            "dnsPortsCloudMetadataServer": False,
            "dnsPortsKubeSystemNamespace": True,
            "dnsPortsPrivateIPs": dns_private,
            "nonPrivateIPs": False,
            "privateIPs": False,
        },
        "egress": egress,
        "ingress": [],
        "allowedIngressPorts": [],
        "interNamespaceAccessLabels": "ignore",
    }


def test_blocked_ranges_collapse_the_cluster_networks() -> None:
    assert blocked_ranges(platform()) == BLOCKED


def test_internet_but_nothing_internal() -> None:
    cfg = platform()
    internet = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": BLOCKED}}]}]
    assert singleuser_network_policy(cfg, cfg.hubs[0]) == policy(True, internet)


def test_no_internet_and_lockdown() -> None:
    offline = platform(internet=False)
    assert singleuser_network_policy(offline, offline.hubs[0]) == policy(True, [])
    exam = platform(lockdown=True)
    assert singleuser_network_policy(exam, exam.hubs[0]) == policy(False, [])


def test_yunikorn_identity_and_namespaces() -> None:
    assert (
        hub_identity_regexes(["jhub-a", "jhub-b"], "hub")
        == "^system:serviceaccount:jhub-a:hub$,^system:serviceaccount:jhub-b:hub$"
    )
    assert process_namespaces(["jhub-a", "jhub-b"]) == "^jhub-a$,^jhub-b$"
    assert process_namespaces([]) == "^$"


def test_yunikorn_values_whole() -> None:
    scheduler = SchedulerConfig.model_validate(
        {"admission_replicas": 3, "admission_host_network": True, "hub_service_account": "hubsa"}
    )
    assert yunikorn_values(scheduler, ["jhub-a"]) == {
        "image": {"tag": "scheduler-1.9.0", "pullPolicy": "IfNotPresent"},
        "web": {"image": {"tag": "web-1.9.0", "pullPolicy": "IfNotPresent"}},
        "admissionController": {
            "image": {"tag": "admission-1.9.0", "pullPolicy": "IfNotPresent"},
            "replicaCount": 3,
            "hostNetwork": True,
        },
        "embedAdmissionController": True,
        "enableWebService": True,
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "yunikornDefaults": {
            "admissionController.accessControl.bypassAuth": "false",
            "admissionController.accessControl.trustControllers": "true",
            "admissionController.accessControl.externalUsers": "^system:serviceaccount:jhub-a:hubsa$",
            "admissionController.filtering.processNamespaces": "^jhub-a$",
            "admissionController.filtering.bypassNamespaces": "^kube-system$",
        },
    }
