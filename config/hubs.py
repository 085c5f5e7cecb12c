"""JupyterHub instances: one Zero to JupyterHub release per hub, each in its own namespace.

Group names: a notebook's JupyterHub groups go verbatim into its YuniKorn `user.info`, and queue ACLs
match them by exact name, restricted to YuniKorn's ACL group-name pattern (letters, digits, `_`, `-`;
`config.scheduler.ACL_GROUP_PATTERN`). Keycloak's `groups` claim carries full paths (`/students`,
`/courses/cs101`) unless the "Full group path" switch of its Group Membership mapper is off, so with an
OIDC (`generic-oauth`) hub every group in the config (login, admin and profile groups) is checked against
that pattern here: a path is refused with a hint to turn the switch off, rather than silently matching
no ACL at run time (`config.hub_access`). Other authenticators' groups get ACL-safe names by a documented
mapping (`config.hub_groups`).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from config.base import StrictModel
from config.fields import DnsName, EmailAddress, ImageReference, LabelValue, url_check
from config.hub_auth import HubAuth
from config.hub_database import HubDatabase
from config.hub_staff import HubStaff

HUB_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$"
SLUG_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
NAMESPACE_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# Every secret key a hub can ask for: `hub_<name with _ for ->_<what>` (see hub_secret_key).
HUB_SECRET_KEY = re.compile(r"^hub_[a-z0-9_]+_(oauth_client_secret|ldap_bind_password|db_password|tls_cert|tls_key)$")


def hub_secret_key(hub_name: str, what: str) -> str:
    """Pulumi config key of one of a hub's secrets, e.g. `hub_teaching_oauth_client_secret`."""
    return f"hub_{hub_name.replace('-', '_')}_{what}"


class HubProfile(StrictModel):
    """One choice on the spawn page: resources, image and the YuniKorn queue the server waits in."""

    slug: Annotated[str, Field(pattern=SLUG_PATTERN)]
    """Stable identifier (lower-case, digits, dashes); users' choices are remembered by it."""
    display_name: Annotated[str, Field(min_length=1)]
    """Title on the spawn page."""
    description: str = ""
    """One line under the title (what it is for)."""
    default: bool = False
    """Pre-selected on the spawn page (at most one per hub; otherwise the first visible one)."""
    queue: Annotated[str, Field(pattern=r"^root(\.[A-Za-z0-9_:#/@-]{1,64})+$")]
    """Full path of the YuniKorn leaf queue the server is submitted to, e.g. `root.students`."""
    cpu_guarantee: Annotated[float, Field(gt=0, le=512)] = 0.5
    """CPUs reserved for the server (its request; what queues and capacity count)."""
    cpu_limit: Annotated[float, Field(gt=0, le=512)] = 2
    """CPUs the server may burst to."""
    mem_guarantee_gib: Annotated[float, Field(gt=0, le=4096)] = 1
    """Memory reserved for the server, GiB."""
    mem_limit_gib: Annotated[float, Field(gt=0, le=4096)] = 2
    """Memory limit, GiB (the kernel is killed above it)."""
    image: ImageReference | None = None
    """Container image (`name:tag`, `name@sha256:...` or both) for this profile; defaults to the hub's `image`."""
    gpu: Annotated[int, Field(ge=0, le=16)] = 0
    """GPUs (or time-slices / MIG slices) per server; needs the GPU pool."""
    gpu_product: LabelValue | None = None
    """Only nodes with this `nvidia.com/gpu.product` label (e.g. `NVIDIA-H100-80GB-HBM3`)."""
    allowed_groups: list[str] = []
    """JupyterHub groups that see this profile (empty: every user of the hub). Admins see every profile whose
    queue admits them; nobody sees a profile whose queue's submit ACL would refuse them."""
    idle_timeout_minutes: Annotated[int, Field(ge=5)] | None = None
    """Stop an idle server of this profile after this long, enforced inside the server (GPU profiles
    default to `gpu.idle_cull_minutes`; other profiles rely on the hub-wide culler)."""


class HubCulling(StrictModel):
    """Stopping idle servers so queued users get their turn."""

    enabled: bool = True
    """Run the hub-wide idle culler."""
    timeout_minutes: Annotated[int, Field(ge=5)] = 60
    """Stop a server after this long without activity."""
    every_minutes: Annotated[int, Field(ge=1)] = 10
    """How often the culler checks."""
    max_age_hours: Annotated[int, Field(ge=0)] = 0
    """Stop servers older than this even when active (0: never); useful on an exam hub."""


class HubHttps(StrictModel):
    """How the proxy serves HTTPS."""

    mode: Literal["letsencrypt", "secret", "offload", "none"] = "letsencrypt"
    """`letsencrypt` (ACME, needs `host` and `contact_email`), `secret` (a certificate from the secrets
    `hub_<name>_tls_cert`/`_tls_key`), `offload` (TLS ends at an external terminator) or `none` (dev only)."""
    contact_email: EmailAddress | None = None
    """ACME account e-mail (letsencrypt)."""
    acme_server: Annotated[str, BeforeValidator(url_check("https://acme-v02.api.letsencrypt.org/directory", ("https",)))] = (
        "https://acme-v02.api.letsencrypt.org/directory"
    )
    """ACME directory; use the staging URL while testing."""


class HubNetwork(StrictModel):
    """What single-user servers may reach (NetworkPolicy; needs a CNI that enforces it, Calico here)."""

    internet: bool = True
    """Allow outbound traffic to public addresses (pip install, git clone)."""
    lockdown: bool = False
    """Exam mode: servers reach only the hub and proxy (and cluster DNS, to find the hub)."""


class HubConfig(StrictModel):
    """One JupyterHub: its namespace, login, profiles, storage, culling, HTTPS and network rules."""

    name: Annotated[str, Field(pattern=HUB_NAME_PATTERN)]
    """Short name (`teaching`, `exam`); names resources and secret keys."""
    namespace: Annotated[str, Field(pattern=NAMESPACE_PATTERN)] | None = None
    """Kubernetes namespace; defaults to `jhub-<name>`."""
    host: DnsName | None = None
    """Public DNS name of the hub (needed for HTTPS and OAuth callbacks)."""
    auth: HubAuth
    """How users log in (`generic-oauth`, `github`, `globus`, `ldap`, `native`)."""
    admin_users: list[str] = []
    """User names that are hub admins: JupyterHub's `admin` role, which always includes opening every
    user's server. Keep it to the platform team where privacy matters and give course staff `staff`."""
    admin_access: bool | None = None
    """Removed: JupyterHub 5 ignores it (admins can always open servers); refused with a pointer to `staff`."""
    staff: HubStaff = HubStaff()
    """Course staff: the hub's `staff` role (manage users and servers; `access_servers` decides whether
    they may open users' servers)."""
    image: ImageReference = "quay.io/jupyter/scipy-notebook:2025-10-20"
    """Default single-user image: `[registry[:port]/]name:tag`, `name@sha256:...` or both (pin a tag, never
    `latest`; profiles may override)."""
    profiles: Annotated[list[HubProfile], Field(min_length=1)]
    """Choices on the spawn page."""
    start_timeout_seconds: Annotated[int, Field(ge=300, le=86400)] = 1800
    """How long a spawn may wait (in its YuniKorn queue, pulling the image) before it fails."""
    concurrent_spawn_limit: Annotated[int, Field(ge=1)] = 500
    """Spawns pending at once; queued spawns count, so size it to the class (a lecture's log-in wave)."""
    active_server_limit: Annotated[int, Field(ge=0)] = 0
    """Running servers allowed at once (0: no limit; queues limit resources)."""
    allow_named_servers: bool = False
    """Let users run several servers each."""
    named_server_limit_per_user: Annotated[int, Field(ge=0)] = 2
    """Named servers per user when allowed."""
    culling: HubCulling = HubCulling()
    """Idle culling."""
    https: HubHttps = HubHttps()
    """HTTPS on the proxy."""
    network: HubNetwork = HubNetwork()
    """What user servers may reach."""
    database: HubDatabase = HubDatabase()
    """The hub's own database: by default SQLite on a local volume of one worker (`database.node`)."""
    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    """Service of the proxy: `LoadBalancer` (`traffic.metallb` or a declared external LB), `NodePort` (HAProxy on
    the `load-balancer` hosts routes to the node ports, or a declared external LB does) or `ClusterIP` (an
    ingress in front). See `config.traffic_rules`."""
    http_node_port: Annotated[int, Field(ge=30000, le=32767)] | None = None
    """Fixed node port for HTTP (NodePort; ACME's HTTP-01 challenge arrives here)."""
    https_node_port: Annotated[int, Field(ge=30000, le=32767)] | None = None
    """Fixed node port for HTTPS (NodePort)."""
    allowed_networks: list[IPv4Network] = []
    """Client networks (CIDRs) allowed to reach this hub, on 443 and 80, at the load balancer and again
    at the proxy pod (NetworkPolicy) or its Service (`loadBalancerSourceRanges`); empty: everyone. A
    restricted hub needs `https.mode: secret` (Let's Encrypt cannot reach it for HTTP-01)."""
    users: Annotated[int, Field(ge=1, le=100_000)] = 200
    """Users active at once at peak (a lecture, an exam); sizes the load balancer's connections for the hub."""
    load_balancer_ip: IPv4Address | None = None
    """`LoadBalancer` with MetalLB: the hub's address from `traffic.metallb.addresses` (point its DNS name
    here); default: the pool's addresses in hub order."""
    shared_folders: bool = True
    """Mount the NFS shared folders (read-only for users, writable for admins)."""
    exam: bool = False
    """Exam hub: needs `allowed_networks`, `network.lockdown`, `shared_folders: false` (only the exam's course
    folders are mounted) and a second factor at the identity provider (`exam_second_factor`)."""
    exam_second_factor: Literal["provider-enforced", "not-enforced"] | None = None
    """Exam hubs: `provider-enforced` acknowledges that the identity provider demands a second factor for this
    client (Keycloak: an OTP-required flow, see README); `not-enforced` knowingly runs the exam without one."""
    protect: bool = True
    """Protect the namespace and the hub secrets from `pulumi destroy` (logins and encrypted state)."""

    @property
    def k8s_namespace(self) -> str:
        return self.namespace or f"jhub-{self.name}"

    @property
    def default_profile(self) -> HubProfile:
        return next((p for p in self.profiles if p.default), self.profiles[0])
