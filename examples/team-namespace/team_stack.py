"""Pulumi wiring of the example consumer: StackReference -> contract -> team namespace.

The set of resources depends only on this stack's own config; values from the other stack flow in
as Outputs, so `pulumi preview` shows the same resources whether or not the platform changed.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from team_contract import MANAGED_BY, parse_team, team_objects


def deploy() -> dict[str, Any]:
    config = pulumi.Config()
    platform = pulumi.StackReference(config.require("platform_stack"))
    team = parse_team(config.require_object("team"))
    contract = platform.require_output("platform")
    objects = contract.apply(lambda doc: team_objects(doc, team))

    # Your own kubeconfig when set, else the platform's (a secret output of its stack).
    kubeconfig = config.get_secret("kubeconfig") or platform.require_output("kubeconfig")
    provider = k8s.Provider("platform", kubeconfig=kubeconfig)
    opts = pulumi.ResourceOptions(provider=provider)

    namespace = k8s.core.v1.Namespace(
        "team",
        metadata=objects.apply(lambda o: o["namespace_metadata"]),
        opts=opts,
    )
    ns_name = namespace.metadata.name  # waits for the namespace to exist
    k8s.core.v1.ResourceQuota(
        "team-quota",
        metadata={"name": "queue-max", "namespace": ns_name, "labels": MANAGED_BY},
        spec={"hard": objects.apply(lambda o: o["quota_hard"])},
        opts=opts,
    )
    k8s.core.v1.ConfigMap(
        "team-platform",
        metadata={"name": "platform-contract", "namespace": ns_name, "labels": MANAGED_BY},
        data=objects.apply(lambda o: o["summary"]),
        opts=opts,
    )
    return {"namespace": ns_name, "queue": team.queue, "hub_urls": objects.apply(lambda o: o["summary"]["hub_urls"])}
