"""YuniKornScheduler: the YuniKorn release and its queue ConfigMap.

Runbook order: namespace ▸ `yunikorn-configs` (queues.yaml), so the scheduler starts with the real
queues and never runs on YuniKorn's open default (`submitacl: '*'` on root) ▸ the pinned release.
Later queue changes update the ConfigMap in place; YuniKorn hot-reloads it, and the admission
controller's webhook validates it first (a bad tree is refused by the API server, old one kept).

How user identity reaches YuniKorn
----------------------------------
Every notebook pod is created by the hub's ServiceAccount, so the admission controller alone would
stamp `system:serviceaccount:<ns>:hub` on all of them (one user, per-user limits useless). Instead:

1. The hub (KubeSpawner `modify_pod_hook`, the JupyterHubRelease's job) sets on each notebook pod
   the label `yunikorn.apache.org/app-id` (one app per server), the label `yunikorn.apache.org/queue`
   (full path, e.g. `root.students`, from the profile) and the annotation
   `yunikorn.apache.org/user.info` = `{"user": "<jupyterhub name>", "groups": [<jupyterhub groups>]}`.
2. The admission controller stays on (it also routes pods to YuniKorn) with
   `admissionController.accessControl.externalUsers` = `^system:serviceaccount:<hub ns>:hub$` per hub
   (and `bypassAuth: false`): only the hubs may set `user.info`; a pod from anyone else carrying it is
   refused, and pods without it get their real creator stamped in. `user.info` cannot be changed later.
   The hub also adds the group `NOTEBOOK_GROUP` (`config.scheduler`), which keeps notebooks out of the
   fallback queue (see `components.yunikorn.queues`).
3. Users hold no Kubernetes API token (z2jh default), so they cannot create pods that claim another
   identity. YuniKorn then applies ACLs, per-user limits and fair sorting to the real user and groups.

Only the hubs' namespaces are processed (`filtering.processNamespaces`); system components keep the
default scheduler. The hubs' own pods (hub, proxy, pullers) name no queue and fall back to the bounded
`root.<fallback>` queue; the admission controller stamps on them the identity of whoever created their
workload (Helm's caller), or a `kube-system` controller's ServiceAccount when the pod template had none.
The webhook fails open: if the admission controller is down, new pods silently go to the default
scheduler (hence two replicas).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.yunikorn.queues import render_queues_yaml
from components.yunikorn.values import yunikorn_values
from config.charts import ChartsConfig
from config.scheduler import SchedulerConfig

CONFIGMAP_NAME = "yunikorn-configs"
RELEASE_NAME = "yunikorn"


def namespace_labels(settings: SchedulerConfig) -> dict[str, str]:
    # Host networking is the only thing the YuniKorn pods need beyond `baseline`.
    level = "privileged" if settings.admission_host_network else "baseline"
    return {"app.kubernetes.io/managed-by": "jupyterhub-platform", "pod-security.kubernetes.io/enforce": level}


class YuniKornScheduler(pulumi.ComponentResource):
    """The YuniKorn scheduler, admission controller and web UI, with the platform's queue tree."""

    namespace: str
    queue_paths: list[str]

    def __init__(
        self,
        name: str,
        *,
        settings: SchedulerConfig,
        charts: ChartsConfig,
        gpu_resource: str,
        hub_namespaces: Sequence[str],
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("jupyterhub-platform:scheduler:YuniKornScheduler", name, None, opts)
        self.namespace = settings.namespace
        self.queue_paths = settings.leaf_queue_paths()
        self.queues_yaml = render_queues_yaml(settings, gpu_resource)

        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": settings.namespace, "labels": namespace_labels(settings)},
            opts=pulumi.ResourceOptions(provider=provider, parent=self, depends_on=list(depends_on)),
        )
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-configs",
            metadata={
                "name": CONFIGMAP_NAME,
                "namespace": ns.metadata["name"],
                "labels": {"app.kubernetes.io/managed-by": "jupyterhub-platform"},
            },
            data={"queues.yaml": self.queues_yaml},
            opts=pulumi.ResourceOptions(provider=provider, parent=self),
        )
        self.release = pinned_release(
            f"{name}-release",
            release=RELEASE_NAME,
            chart="yunikorn",
            version=settings.chart_version,
            repo=settings.chart_repository,
            sources=charts,
            namespace=ns.metadata["name"],
            values=yunikorn_values(settings, hub_namespaces),
            timeout=600,
            opts=pulumi.ResourceOptions(provider=provider, parent=self, depends_on=[self.config_map]),
        )
        self.ready: list[pulumi.Resource] = [self.config_map, self.release]
        self.register_outputs({"namespace": self.namespace, "queues": self.queue_paths})
