"""HaproxyLb: HAProxy on every load-balancer host, and keepalived sharing the API VIP when there are 2+."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi

from components.common.remote import NodeAccess, run_step
from components.haproxy_lb.haproxy_cfg import STATS_URI, backends_from, render_haproxy_cfg, render_metrics_section
from components.haproxy_lb.hub_routes import HubRoute, HubTiming, backend_name, render_hub_sections
from components.haproxy_lb.keepalived import VrrpHost, render_check_script, render_keepalived_conf
from components.haproxy_lb.steps import haproxy_script, keepalived_script
from config.cluster import ClusterConfig, LoadBalancerConfig
from config.inventory import Node

TYPE_TOKEN = "jupyterhub-platform:infra:HaproxyLb"
# All addresses: the frontend also answers on the VIP without net.ipv4.ip_nonlocal_bind.
FRONTEND_BIND = "*"
STATS_BIND = "127.0.0.1"
HUB_HTTPS_PORT, HUB_HTTP_PORT = 443, 80


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class HaproxyLb(pulumi.ComponentResource):
    """The API endpoint: HAProxy (TCP, TLS /readyz checks) on each LB host, keepalived VIP with 2+ hosts.

    No step has a `delete`: stopping the load balancer on a replace would cut the API. A host
    removed from the LB role keeps HAProxy/keepalived until it is cleaned up by hand.
    """

    ready: list[pulumi.Resource]
    """The per-host install steps; the first `kubeadm init` waits for them."""
    summary: dict[str, Any]
    """Plain facts for the stack outputs: VIP, hosts, port, stats address."""

    def __init__(
        self,
        name: str,
        *,
        nodes: Sequence[NodeAccess],
        control_planes: Sequence[Node],
        cluster: ClusterConfig,
        settings: LoadBalancerConfig,
        frontend_port: int,
        auth_pass: pulumi.Input[str] | None = None,
        hubs: Sequence[HubRoute] = (),
        hub_timing: HubTiming | None = None,
        maxconn: int | None = None,
        hub_vip: str | None = None,
        metrics: tuple[int, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`hubs`: the hubs routed on 443 (SNI) and 80 (Host); `hub_vip`: a second VIP keepalived carries;
        `metrics`: (port, node network) of HAProxy's Prometheus exporter, when monitoring is on."""
        super().__init__(TYPE_TOKEN, name, None, opts)
        if not nodes:
            raise ValueError("HaproxyLb needs at least one load-balancer host")
        if hubs and hub_timing is None:
            raise ValueError("hub routes need their timing")
        backends = backends_from([(n.name, str(n.address)) for n in control_planes], cluster.api_server_port)
        sections = ""
        if hub_timing is not None:
            sections = render_hub_sections(
                hubs, FRONTEND_BIND, https_port=HUB_HTTPS_PORT, http_port=HUB_HTTP_PORT, timing=hub_timing
            )
        exporter = render_metrics_section(FRONTEND_BIND, *metrics) if metrics is not None else ""
        cfg_text = render_haproxy_cfg(
            backends, FRONTEND_BIND, frontend_port, settings, STATS_BIND, hub_sections=sections, maxconn=maxconn,
            metrics_section=exporter,
        )
        haproxy = haproxy_script(cfg_text, frontend_port, hub_ports=(HUB_HTTPS_PORT, HUB_HTTP_PORT) if hubs else ())
        use_keepalived = len(nodes) >= 2
        if use_keepalived and settings.vip is None:
            raise ValueError("two or more load-balancer hosts need load_balancer.vip")
        hosts = [VrrpHost(a.node.name, str(a.node.address)) for a in nodes]
        check_script = render_check_script(frontend_port)
        auth = auth_pass is not None
        extra_vips = [hub_vip] if hub_vip is not None else []
        # The password only ever travels as stdin (a secret); the rendered config holds a placeholder.
        stdin = pulumi.Output.secret(auth_pass) if auth_pass is not None else None

        self.ready = []
        for index, access in enumerate(nodes):
            ha_step = run_step(access, "haproxy", haproxy, parent=self, triggers=[_sha256(cfg_text), _sha256(haproxy.text)])
            self.ready.append(ha_step)
            if not use_keepalived:
                continue
            conf = render_keepalived_conf(
                hosts=hosts, index=index, vip=str(settings.vip), settings=settings, auth=auth, extra_vips=extra_vips
            )
            script = keepalived_script(conf, check_script, auth=auth)
            self.ready.append(
                run_step(
                    access,
                    "keepalived",
                    script,
                    parent=self,
                    depends_on=[ha_step],  # the tracked check calls the local HAProxy
                    stdin=stdin,
                    triggers=[_sha256(conf), _sha256(script.text)],
                )
            )

        self.summary = {
            "vip": str(settings.vip) if use_keepalived else None,
            "hosts": [h.name for h in hosts],
            "addresses": [h.address for h in hosts],
            "port": frontend_port,
            "backends": [f"{address}:{port}" for _, address, port in backends],
            "keepalived": use_keepalived,
            "stats": f"http://{STATS_BIND}:{settings.stats_port}{STATS_URI} (on each LB host)",
            "hub_vip": hub_vip,
            "hub_backends": [
                backend_name(h.name, port)
                for h in hubs
                for port, node_port in (("https", h.https_port), ("http", h.http_port))
                if node_port is not None
            ],
        }
        self.register_outputs({"summary": self.summary})
