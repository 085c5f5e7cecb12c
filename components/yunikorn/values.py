"""YuniKorn chart values (pure). Only keys the pinned chart reads (`components/common/chart_keys/`);
`enableSchedulerPlugin` is gone since the 1.9.0 chart (the plugin mode was removed).

Service settings go to `yunikornDefaults` (the chart renders them into `yunikorn-defaults`); the
queues live in the separately owned `yunikorn-configs` ConfigMap, which YuniKorn merges on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.scheduler import SchedulerConfig

# A namespace regex that matches nothing: with no hub, YuniKorn schedules no pod by itself.
NO_NAMESPACE = "^$"


def hub_identity_regexes(hub_namespaces: Sequence[str], service_account: str) -> str:
    """`externalUsers`: the hubs' ServiceAccounts, each anchored (namespaces are DNS labels: no regex metacharacters)."""
    return ",".join(f"^system:serviceaccount:{ns}:{service_account}$" for ns in hub_namespaces)


def process_namespaces(hub_namespaces: Sequence[str]) -> str:
    """Namespaces whose pods the admission controller hands to YuniKorn: the hubs' only."""
    return ",".join(f"^{ns}$" for ns in hub_namespaces) or NO_NAMESPACE


def service_settings(scheduler: SchedulerConfig, hub_namespaces: Sequence[str]) -> dict[str, str]:
    return {
        # Pods that set `yunikorn.apache.org/user.info` must come from a hub; anyone else's
        # annotation is refused and unannotated pods get their real creator stamped in.
        "admissionController.accessControl.bypassAuth": "false",
        "admissionController.accessControl.trustControllers": "true",
        "admissionController.accessControl.externalUsers": hub_identity_regexes(hub_namespaces, scheduler.hub_service_account),
        "admissionController.filtering.processNamespaces": process_namespaces(hub_namespaces),
        "admissionController.filtering.bypassNamespaces": "^kube-system$",
    }


def yunikorn_values(scheduler: SchedulerConfig, hub_namespaces: Sequence[str]) -> dict[str, Any]:
    version = scheduler.image_version
    # Images pinned to the chart's release instead of whatever tag the chart defaults to.
    return {
        "image": {"tag": f"scheduler-{version}", "pullPolicy": "IfNotPresent"},
        "web": {"image": {"tag": f"web-{version}", "pullPolicy": "IfNotPresent"}},
        "admissionController": {
            "image": {"tag": f"admission-{version}", "pullPolicy": "IfNotPresent"},
            "replicaCount": scheduler.admission_replicas,
            "hostNetwork": scheduler.admission_host_network,
        },
        "embedAdmissionController": True,
        "enableWebService": True,
        # The web UI and REST API have no login: reachable only inside the cluster, through the admin
        # console's oauth2-proxy (`consoles:`), never as a NodePort or an ingress of the chart's.
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "yunikornDefaults": service_settings(scheduler, hub_namespaces),
    }
