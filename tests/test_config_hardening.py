"""Values a component relies on are checked in config/: each case edits one field of a committed stack and
expects exactly one error, at that field, with the message a person can act on (no regex, no pydantic
internals in the path, no credentials repeated, no cascade of consequences)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from tests.helpers import stack_raw
from tools.render import read_stack_file

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
"""A well-formed ed25519 public key (type string, then a 32-byte key)."""
KEYSCAN = "`ssh-keyscan -t ed25519 <host>` prints `<host> ssh-ed25519 AAAA...`: write the part after the host"
CHART = (
    "must be an exact chart version like 1.9.0 or v3.30.3 (as the chart's repository lists it); "
    "`latest`, ranges and partial versions like v3.30 are not pinned"
)
NO_CREDENTIALS = "must not carry credentials (a user or password before the host): remove them from the URL"


def _raw(stack: str) -> dict[str, Any]:
    return copy.deepcopy(stack_raw(stack)[0])


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[parts[-1]] = value


def _errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, set(), missing_secrets_ok=True)
    return list(caught.value.lines())


CASES = [
    # (stack, field, value, the one expected error)
    ("dev", "hubs.0.host", "https://jupyter.example.org",
     "hubs.0.host: is a URL: write only the host name, e.g. jupyter.example.org (no scheme, no path)"),
    ("dev", "hubs.0.host", "jupyter.example.org/hub",
     "hubs.0.host: has a path: write only the host name, e.g. jupyter.example.org (a hub is served at /)"),
    ("dev", "hubs.0.host", "jupyter.example.org:8443",
     "hubs.0.host: write only the host name, e.g. jupyter.example.org (no port, no user)"),
    ("dev", "hubs.0.host", "jupyter",
     "hubs.0.host: must be a DNS name like jupyter.example.org: labels of letters, digits and '-' separated by dots"),
    ("dev", "hubs.0.host", "192.0.2.80",
     "hubs.0.host: must be a DNS name like jupyter.example.org: labels of letters, digits and '-' separated by dots"),
    ("dev", "hubs.0.https.contact_email", "platform-team",
     "hubs.0.https.contact_email: must be an e-mail address like platform-team@example.org"),
    ("dev", "scheduler.chart_version", "latest", f"scheduler.chart_version: {CHART}"),
    ("prod", "cluster.calico_version", "v3.30", f"cluster.calico_version: {CHART}"),
    ("prod", "gpu.operator_chart_version", "^26.7", f"gpu.operator_chart_version: {CHART}"),
    ("dev", "nfs.csi_driver_version", 4.13, 'nfs.csi_driver_version: is a number: write text like "1.9.0"; quote it'),
    ("dev", "cluster.kubernetes_version", 1.34,
     'cluster.kubernetes_version: is a number (YAML reads 1.34 as one): quote an exact version, e.g. "1.37.1"'),
    ("dev", "hubs.0.auth.issuer", "https://admin:hunter2@login.example.org/realms/dev", f"hubs.0.auth.issuer: {NO_CREDENTIALS}"),
    ("dev", "hubs.0.https.acme_server", "https://u:hunter2@acme.example.org/directory",
     f"hubs.0.https.acme_server: {NO_CREDENTIALS}"),
    ("prod", "publish.s3.endpoint_url", "https://AKIAEXAMPLE:hunter2@s3.example.org",
     f"publish.s3.endpoint_url: {NO_CREDENTIALS}"),
    ("dev", "nfs.csi_chart_repository", "https://user:hunter2@charts.example.org",
     f"nfs.csi_chart_repository: {NO_CREDENTIALS}"),
    ("dev", "nfs.csi_chart_repository", "http://charts.example.org",
     "nfs.csi_chart_repository: must be a URL like https://kubernetes-csi.github.io/csi-driver-nfs (scheme https)"),
    ("dev", "hubs.0.database", {"type": "postgres", "url": "postgresql+psycopg2://jhub:hunter2@db.example.org/teaching"},
     "hubs.0.database.url: must not carry a password: remove it from the URL (the password is a secret of its own)"),
    ("dev", "inventory.nodes.0.ssh", {"host_key": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
     f"inventory.nodes.0.ssh.host_key: is a fingerprint; pin the public key itself as `<key-type> <base64>`: {KEYSCAN}"),
    ("dev", "inventory.nodes.0.ssh", {"host_key": f"192.0.2.100 {ED25519}"},
     "inventory.nodes.0.ssh.host_key: is a known_hosts line; drop the host name(s) in front and keep "
     f"`<key-type> <base64>`: {KEYSCAN}"),
    ("dev", "inventory.nodes.0.ssh", {"host_key": "ssh-rsa " + ED25519.split()[1]},
     "inventory.nodes.0.ssh.host_key: the key data is not a ssh-rsa key (pasted under the wrong type, or cut short): "
     f"{KEYSCAN}"),
    ("dev", "ssh.bastion", {"host": "bastion.example.org:2222", "user": "jump"},
     "ssh.bastion.host: write only the host name or address: the port is a field of its own"),
    ("dev", "ssh.bastion", {"host": "ssh://bastion.example.org", "user": "jump"},
     "ssh.bastion.host: write only the host name or address, e.g. bastion.example.org (no ssh://)"),
    ("dev", "hubs.0.image", "quay.io/jupyter/scipy-notebook",
     "hubs.0.image: has no tag: pin one (name:tag) or a digest (name@sha256:...), e.g. "
     "quay.io/jupyter/base-notebook:2025-10-20"),
    ("dev", "hubs.0.image", "quay.io/jupyter/scipy-notebook:latest",
     "hubs.0.image: `latest` moves under running servers: pin a dated or versioned tag, e.g. :2025-10-20"),
    ("dev", "hubs.0.profiles.0.image", "Quay.io/Jupyter/Scipy:1",
     "hubs.0.profiles.0.image: must be an image reference: [registry[:port]/]name:tag or name@sha256:<64 hex> "
     "(lower-case name), e.g. quay.io/jupyter/scipy-notebook:2025-10-20"),
    ("prod", "hubs.0.profiles.3.gpu_product", "NVIDIA H100",
     "hubs.0.profiles.3.gpu_product: must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', "
     "starting and ending with a letter or digit, e.g. NVIDIA-H100-80GB-HBM3"),
    ("prod", "hubs.1.http_node_port", 30443, "hubs.1.http_node_port: 30443 is also used by hubs.0.https_node_port"),
    ("prod", "hubs.0.https_node_port", 30080, "hubs.0.https_node_port: 30080 is also used by hubs.0.http_node_port"),
    ("prod", "hubs.0.profiles.0.cpu_limit", 0.25, "hubs.0.profiles.0.cpu_limit: 0.25 is below cpu_guarantee 0.5"),
    ("prod", "hubs.0.profiles.0.mem_limit_gib", 0.5, "hubs.0.profiles.0.mem_limit_gib: 0.5 is below mem_guarantee_gib 1"),
    ("prod", "hubs.0.profiles.3.gpu", 15, "hubs.0.profiles.3.gpu: 15 GPU seats do not fit on any GPU node (largest has 14)"),
    ("prod", "scheduler.queues.0.queues.2.guaranteed.gpu", 20,
     "scheduler.queues.0.queues.2.guaranteed.gpu: 20 GPU seat(s) is above the queue's own max 14 GPU seat(s)"),
    ("dev", "hubs.0.auth.type", "generic-oauth2",
     "hubs.0.auth.type: must be one of 'generic-oauth', 'github', 'globus', 'ldap', 'native', 'dummy'"),
    ("dev", "hubs.0.auth", {"type": "github", "client_id": "x", "allowed_organizations": "my-org"},
     "hubs.0.auth.allowed_organizations: must be a list"),
    ("dev", "hubs.0.auth", {"type": "ldap", "server_address": "ldap://ldap.example.org", "bind_dn_template": ["uid={username}"]},
     "hubs.0.auth.server_address: plain ldap:// sends passwords in clear: write the host name (ldap.example.org) and "
     "keep TLS on with tls_strategy on_connect (LDAPS, port 636) or before_bind (StartTLS, port 389)"),
    ("dev", "hubs.0.auth", {"type": "ldap", "server_address": "ldap.example.org", "tls_strategy": "insecure",
                            "bind_dn_template": ["uid={username}"]},
     "hubs.0.auth.tls_strategy: must be one of 'on_connect' or 'before_bind'"),
    ("prod", "gpu.sharing.mig.layout", {"1g.10gb": 9}, "gpu.sharing.mig.layout.1g.10gb: must be at most 7"),
    ("prod", "gpu.sharing.mig.layout", "1g.10gb",
     "gpu.sharing.mig.layout: must be a named MIG layout like all-1g.10gb or all-balanced, or a map of profile: count "
     "per GPU like {1g.10gb: 7}"),
    ("prod", "gpu.sharing.mig.layout", 7, "gpu.sharing.mig.layout: must be text or a mapping of key: value"),
    ("dev", "hubs.0.name", "Dev_Hub",
     "hubs.0.name: must be a short name: lower-case letters, digits and '-', at most 20, starting with a letter, e.g. teaching"),
    ("dev", "inventory.nodes.0.address", "192.0.2.999", "inventory.nodes.0.address: must be an IPv4 address like 192.0.2.10"),
    ("dev", "hubs.0.concurrent_spawn_limit", "many", "hubs.0.concurrent_spawn_limit: must be a whole number"),
    ("dev", "inventory.node_network", {"\r": 1}, "inventory.node_network: must be an IPv4 network like 192.0.2.0/24"),
    ("dev", "inventory.node_network", True, "inventory.node_network: is true/false, where an IPv4 network is expected"),
    ("dev", "inventory.nodes.0.address", 5,
     "inventory.nodes.0.address: is a number, where an IPv4 address is expected (e.g. 192.0.2.10)"),
    ("prod", "inventory.nodes.7.gpu.count", True, "inventory.nodes.7.gpu.count: is true/false, where a whole number is expected"),
    ("prod", "hubs.1.network.internet", 1, "hubs.1.network.internet: is a number, where true or false is expected"),
    ("prod", "hubs.0.profiles.0.cpu_guarantee", True,
     "hubs.0.profiles.0.cpu_guarantee: is true/false, where a number is expected"),
    ("dev", "inventory.nodes.0.roles", ["worker", "control plane"],
     "inventory.nodes.0.roles.1: must be one of 'control-plane', 'worker', 'load-balancer' or 'nfs'"),
]


@pytest.mark.parametrize(("stack", "field", "value", "expected"), CASES, ids=[f"{c[1]}={c[2]!r}"[:60] for c in CASES])
def test_one_error_at_the_field(stack: str, field: str, value: Any, expected: str) -> None:
    raw = _raw(stack)
    _set(raw, field, value)
    assert _errors(raw) == [f"error: {expected}"]


def test_a_profile_must_fit_its_queue_and_the_per_user_limit() -> None:
    raw = _raw("prod")
    raw["hubs"][0]["profiles"][0].update(cpu_guarantee=3, cpu_limit=3)
    raw["hubs"][0]["profiles"][2].update(mem_guarantee_gib=120, mem_limit_gib=120)
    assert _errors(raw) == [
        "error: hubs.0.profiles.0.cpu_guarantee: 3 cores is above the per-user max_resources of queue root.students "
        "(scheduler.queues.0.queues.0.user_limits.0): 2 cores; its servers could never start (lower the guarantee or "
        "raise that limit)",
        "error: hubs.0.profiles.2.mem_guarantee_gib: 120.0Gi is above the max of queue root.researchers: 112.0Gi; its "
        "servers could never start (lower the guarantee or raise that limit)",
    ]


def test_no_message_repeats_a_credential() -> None:
    raw = _raw("prod")
    _set(raw, "hubs.0.auth.issuer", "https://admin:hunter2@login.example.org/realms/university")
    _set(raw, "hubs.1.database", {"type": "postgres", "url": "postgresql://jhub:hunter2@db.example.org/x"})
    _set(raw, "publish.s3.endpoint_url", "ftp://AKIA:hunter2@s3.example.org")
    _set(raw, "hubs.2.https.acme_server", "https://u:hunter2@[::1")
    lines = _errors(raw)
    assert len(lines) == 4 and not any("hunter2" in line or "AKIA" in line for line in lines), lines


def test_quantities_take_numbers_as_well_as_strings() -> None:
    raw = _raw("dev")
    _set(raw, "scheduler.queues.0.queues.0.max", {"vcore": 3, "memory": "6Gi"})
    _set(raw, "scheduler.queues.0.queues.0.user_limits.0.max_resources", {"vcore": 0.5, "memory": 2147483648})
    cfg = load_platform(raw, set(), missing_secrets_ok=True)
    students = cfg.scheduler.queues[0].queues[0]
    assert students.max is not None and students.max.amounts() == {"vcore": 3000, "memory": 6 * 2**30}
    limit = students.user_limits[0].max_resources
    assert limit is not None and limit.amounts() == {"vcore": 500, "memory": 2 * 2**30}
    _set(raw, "scheduler.queues.0.queues.0.max.vcore", True)
    assert _errors(raw) == [
        "error: scheduler.queues.0.queues.0.max.vcore: must be a quantity like 4 or 500m (CPU) or 16Gi (memory), not true/false"
    ]


def test_accepted_image_references() -> None:
    raw = _raw("dev")
    digest = "sha256:" + "0123456789abcdef" * 4
    for image in ("registry.example.org:5000/team/notebook:1.2", "localhost:5000/nb:v1", f"quay.io/jupyter/x@{digest}",
                  f"quay.io/jupyter/x:2025-10-20@{digest}", "jupyter/scipy-notebook:2025-10-20"):  # fmt: skip
        _set(raw, "hubs.0.image", image)
        assert load_platform(raw, set(), missing_secrets_ok=True).hubs[0].image == image


def test_a_well_formed_host_key_and_a_bastion_address_pass() -> None:
    raw = _raw("dev")
    _set(raw, "inventory.nodes.0.ssh", {"host_key": ED25519 + "  "})
    _set(raw, "ssh.bastion", {"host": "192.0.2.5", "user": "jump", "host_key": ED25519})
    cfg = load_platform(raw, set(), missing_secrets_ok=True)
    assert cfg.inventory.nodes[0].ssh.host_key == ED25519 and cfg.ssh.bastion is not None


STACK_FILE_CASES = [
    ("config:\n  jupyterhub-platform:ssh: {user: a}\n  jupyterhub-platform:ssh: {user: b}\n",
     "error: config.jupyterhub-platform:ssh: given twice (lines 2 and 3): merge them into one"),
    ("config:\n  jupyterhub-platform:ssh:\n    user: a\n    user: b\n",
     "error: config.jupyterhub-platform:ssh.user: given twice (lines 3 and 4): merge them into one"),
    ("encryptionsalt: x\n",
     "error: config: Pulumi.bad.yaml has no `config:` section: put the settings under `config:` as "
     "`jupyterhub-platform:<section>: ...`"),
    ("config:\n  jupyterhub-platfrom:publish: {s3: {bucket: b}}\n  kubernetes:context: lab\n",
     "error: config.jupyterhub-platfrom:publish: the prefix 'jupyterhub-platfrom' is not the project name: write "
     "`jupyterhub-platform:publish` (as written it is ignored)"),
    ("config:\n  JupyterHub-Platform:hubs: []\n",
     "error: config.JupyterHub-Platform:hubs: the prefix 'JupyterHub-Platform' is not the project name: write "
     "`jupyterhub-platform:hubs` (as written it is ignored)"),
]


@pytest.mark.parametrize(("text", "expected"), STACK_FILE_CASES)
def test_stack_file_shape(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    assert caught.value.lines() == [expected]


def test_odd_keys_are_quoted_in_paths() -> None:
    raw = _raw("dev")
    raw["inventory"]["bad\tkey"] = 1
    assert _errors(raw) == ['error: inventory."bad\\tkey": unknown key (check the spelling)']


def test_the_readme_shows_real_messages(tmp_path: Path) -> None:
    """The first example block of the README's errors section is what the render prints for these mistakes."""
    import re
    import subprocess
    import sys

    import yaml

    from tests.helpers import ROOT

    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config = doc["config"]
    config["jupyterhub-platform:cluster"]["kubernetes_version"] = 1.34
    fingerprint = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
    config["jupyterhub-platform:inventory"]["nodes"][0]["ssh"] = {"host_key": fingerprint}
    config["jupyterhub-platform:scheduler"]["chart_version"] = "latest"
    hub = config["jupyterhub-platform:hubs"][0]
    hub.update(host="https://jupyter-dev.example.org", image="quay.io/jupyter/scipy-notebook:latest")
    hub["auth"]["issuer"] = "https://admin:hunter2@login.example.org/realms/dev"
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = subprocess.run(
        [sys.executable, "-m", "tools.render", "broken", "--stack-file", str(path), "--out", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    readme = (ROOT / "README.md").read_text().split("### When the configuration is wrong", 1)[1]
    shown = re.search(r"```\n(.*?)```", readme, re.S)
    assert shown is not None and result.returncode == 2
    assert result.stderr.splitlines() == shown.group(1).splitlines()


def test_every_error_line_hides_the_user_part_of_urls() -> None:
    """A safety net under every check: even a message that quotes a value never shows a URL's credentials."""
    from config.errors import ConfigIssue

    issue = ConfigIssue("nfs.server", "'admin:hunter2@nas.example.org' and https://u:hunter2@h/x, ftp://token@h")
    assert str(issue) == "error: nfs.server: '***@nas.example.org' and https://***@h/x, ftp://***@h"
    assert str(ConfigIssue("a", "mail platform-team@example.org at 10:30")) == "error: a: mail platform-team@example.org at 10:30"


def test_pulumi_source_refuses_a_misspelt_project_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi up` reads the same keys through pulumi.Config: a near-miss prefix stops the run with the hint."""
    import json

    import pulumi

    from config import pulumi_source

    logged: list[str] = []
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"jupyterhub-platfrom:publish": "{}", "kubernetes:context": "lab"}))
    monkeypatch.setattr(pulumi.log, "error", lambda message, *args, **kwargs: logged.append(message))
    with pytest.raises(pulumi.RunError, match="1 problem"):
        pulumi_source.load_from_pulumi()
    assert logged == [
        "error: jupyterhub-platfrom:publish: the prefix 'jupyterhub-platfrom' is not the project name: write "
        "`jupyterhub-platform:publish` (as written it is ignored)"
    ]


def test_an_unknown_key_names_the_field_it_is_close_to() -> None:
    raw = _raw("prod")
    raw["hubs"][0]["auth"]["isuer"] = raw["hubs"][0]["auth"].pop("issuer")
    raw["inventory"]["nodes"][0]["adress"] = raw["inventory"]["nodes"][0].pop("address")
    raw["scheduler"]["queues"][0]["queues"][0]["user_limits"][0]["max_resource"] = {}
    raw["gpu"]["zzz"] = 1
    assert _errors(raw) == [
        "error: gpu.zzz: unknown key (check the spelling)",
        "error: hubs.0.auth.isuer: unknown key (did you mean `issuer`?)",
        "error: inventory.nodes.0.address: required key is missing",
        "error: inventory.nodes.0.adress: unknown key (did you mean `address`?)",
        "error: scheduler.queues.0.queues.0.user_limits.0.max_resource: unknown key (did you mean `max_resources`?)",
    ]


def test_at_most_ten_load_balancers() -> None:
    raw = _raw("prod")
    nodes = raw["inventory"]["nodes"]
    nodes += [{"name": f"lb-{n}", "address": f"192.0.2.{60 + n}", "roles": ["load-balancer"]} for n in range(3, 12)]
    assert _errors(raw) == ["error: inventory.nodes: 11 load-balancer hosts: keepalived shares a VIP among at most 10"]


def test_a_registry_port_and_a_digest_render(tmp_path: Path) -> None:
    """What the image grammar accepts, the hub component renders (the full reference reaches the chart)."""
    import yaml

    from components.common import artifacts
    from tests.helpers import ROOT
    from tools import render as render_tool

    digest = "sha256:" + "0123456789abcdef" * 4
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"]["jupyterhub-platform:hubs"][0]["image"] = f"registry.example.org:5000/team/notebook:1.2@{digest}"
    path = tmp_path / "Pulumi.digest.yaml"
    path.write_text(yaml.safe_dump(doc))
    artifacts.reset()
    render_tool.render("digest", path, tmp_path / "out")
    values = yaml.safe_load((tmp_path / "out" / "files" / "releases" / "hub-dev" / "values.yaml").read_text())
    image = values["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == f"registry.example.org:5000/team/notebook:1.2@{digest}"
