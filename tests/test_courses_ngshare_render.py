"""The ngshare exchange as rendered: manifests valid for Kubernetes (strict), which hubs run it, the hub values
(services, role, policy holes, nbgrader config), the sync's configuration, and the prod graph (tokens secret,
the data volume protected and retained, the Release after ngshare)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kubernetes_validate

from components.courses import ngshare
from components.jupyterhub.component import secret_values_file
from components.jupyterhub.values import render_values
from config.course_queries import exchange_hubs
from tests.helpers import ROOT, stack_platform
from tests.test_hub_real import STORAGE

K8S_VERSION = "1.34"


def test_manifests_pass_kubernetes_validate_strict() -> None:
    cfg = stack_platform("prod")
    hub = next(h for h in cfg.hubs if h.name == "exam")
    ns = hub.k8s_namespace
    for manifest in (
        ngshare.deployment(cfg, ns),
        ngshare.service(ns),
        ngshare.network_policy(ns),
        ngshare.sync_config_map(cfg, hub),
        ngshare.sync_cron_job(cfg, ns),
    ):
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_one_exchange_per_hub_offering_a_course() -> None:
    prod = stack_platform("prod")
    # The grading hub offers no course: nobody submits there (ngshare knows users by their token of one hub).
    assert [h.name for h in exchange_hubs(prod)] == ["teaching", "exam"]
    assert [h.name for h in exchange_hubs(stack_platform("dev"))] == ["dev"]
    grading = next(h for h in prod.hubs if h.name == "grading")
    values = render_values(prod, grading, STORAGE)
    assert "ngshare" not in json.dumps(values)


def test_hub_values_services_role_holes_and_nbgrader_config() -> None:
    cfg = stack_platform("prod")
    hub = next(h for h in cfg.hubs if h.name == "teaching")
    values = render_values(cfg, hub, STORAGE)
    assert values["hub"]["services"]["ngshare"] == {"url": "http://ngshare:8080", "oauth_no_confirm": True, "display": True}
    assert values["hub"]["services"]["ngshare-Sync"] == {}
    assert values["hub"]["loadRoles"]["ngshare-sync"] == {
        "description": "ngshare membership sync: reads the course groups",
        "scopes": [
            f"read:groups!group={g}" for g in ("cs101-instructors", "cs101-students", "ml201-instructors", "ml201-students")
        ],
        "services": ["ngshare-Sync"],
    }
    to_ngshare = {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ngshare"}}}],
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }
    assert to_ngshare in values["hub"]["networkPolicy"]["egress"]
    assert values["proxy"]["chp"]["networkPolicy"]["egress"] == [to_ngshare]
    assert values["singleuser"]["networkPolicy"]["egress"][-1] == to_ngshare
    files = values["singleuser"]["extraFiles"]
    assert files["nbgrader-exchange"]["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    assert "jupyter-server-no-sqlite-on-nfs" in files  # merged, not replaced
    # The exam hub is locked down: its servers reach the exchange and nothing else beyond hub and DNS.
    exam = next(h for h in cfg.hubs if h.name == "exam")
    assert render_values(cfg, exam, STORAGE)["singleuser"]["networkPolicy"]["egress"] == [to_ngshare]
    assert render_values(cfg, exam, STORAGE)["hub"]["loadRoles"]["ngshare-sync"]["scopes"] == [
        "read:groups!group=cs101-instructors",
        "read:groups!group=cs101-students",
    ]


def test_nbgrader_config_points_at_the_hubs_ngshare(tmp_path: Path) -> None:
    """The mounted file, run as nbgrader runs config files (with `get_config`), configures the exchange."""
    text = ngshare.nbgrader_config("jhub-exam")
    calls: list[tuple[object, str]] = []
    fake = type(sys)("ngshare_exchange")
    fake.configureExchange = lambda c, url: calls.append((c, url))  # type: ignore[attr-defined]
    marker = object()
    saved = sys.modules.get("ngshare_exchange")
    sys.modules["ngshare_exchange"] = fake
    try:
        exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: marker})
    finally:
        if saved is None:
            sys.modules.pop("ngshare_exchange")
        else:
            sys.modules["ngshare_exchange"] = saved
    assert calls == [(marker, "http://ngshare.jhub-exam.svc.cluster.local:8080/services/ngshare")]
    # In an image without the client the file does nothing (general profiles share the hub's files).
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nsys.modules['ngshare_exchange'] = None\nexec(open(sys.argv[1]).read(), {'get_config': dict})\n"
    )
    (tmp_path / "nbgrader_config.py").write_text(text)
    subprocess.run([sys.executable, str(script), str(tmp_path / "nbgrader_config.py")], check=True, timeout=60)


def test_sync_configuration_names_groups_never_members() -> None:
    cfg = stack_platform("dev")
    hub = cfg.hubs[0]
    config = ngshare.sync_config_map(cfg, hub)
    assert json.loads(config["data"]["courses.json"]) == [
        {"course": "cs101", "instructors": "cs101-instructors", "students": "cs101-students"}
    ]
    assert config["data"]["ngshare_sync.py"] == (ROOT / "components" / "courses" / "ngshare_sync.py").read_text()
    job = ngshare.sync_cron_job(cfg, hub.k8s_namespace)
    assert job["spec"]["schedule"] == "*/10 * * * *" and job["spec"]["concurrencyPolicy"] == "Forbid"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    token = next(v for v in pod["volumes"] if v["name"] == "token")["secret"]
    assert token == {"secretName": "ngshare-tokens", "items": [{"key": "sync", "path": "token", "mode": 0o440}]}
    assert pod["securityContext"] == {"fsGroup": 65535}
    assert not any("valueFrom" in e for e in pod["containers"][0]["env"])  # the token is a file, not a variable
    deployment = ngshare.deployment(cfg, hub.k8s_namespace)["spec"]
    assert deployment["replicas"] == 1 and deployment["strategy"] == {"type": "Recreate"}
    args = deployment["template"]["spec"]["containers"][0]["command"]
    assert args[:5] == ["python3", "-m", "ngshare", "--admins", "ngshare-Sync"]


def test_secret_values_file_carries_both_tokens() -> None:
    values = secret_values_file(["p", "m", "svc", "sync"], {})
    assert values["proxy"] == {"secretToken": "p"}
    assert values["hub"]["services"] == {
        "prometheus": {"apiToken": "m"},
        "ngshare": {"apiToken": "svc"},
        "ngshare-Sync": {"apiToken": "sync"},
    }
    assert secret_values_file(["p", "", "svc", "sync"], {})["hub"]["services"].keys() == {"ngshare", "ngshare-Sync"}
    assert "hub" not in secret_values_file(["p", ""], {})


def test_prod_graph_tokens_secret_data_kept_release_after_ngshare(rendered) -> None:  # type: ignore[no-untyped-def]
    plan, out = rendered("prod")
    by_name = {r["name"]: r for r in plan["resources"]}
    tokens = by_name["hub-teaching-ngshare-tokens"]
    assert tokens["inputs"]["stringData"] == "[secret]"
    for kind in ("pv", "pvc"):
        volume = next(r for n, r in by_name.items() if n.endswith(f"jhub-teaching-ngshare-data-{kind}"))
        assert volume["protect"] is True  # submissions are user data: never deleted by a config change
    pv = (out / "files" / "manifests" / "PersistentVolume-cluster-nfs-ngshare-jhub-teaching.yaml").read_text()
    assert "persistentVolumeReclaimPolicy: Retain" in pv and "/srv/nfs/jupyterhub/ngshare/jhub-teaching" in pv
    release = next(r for r in plan["resources"] if r["name"] == "hub-teaching" and r["type"] == "kubernetes:helm.sh/v3:Release")
    deployment = by_name["hub-teaching-ngshare-deployment"]
    assert deployment["urn"] in release["depends_on"]
    values = (out / "files" / "releases" / "hub-teaching" / "values.yaml").read_text()
    assert "apiToken" not in values and "ngshare-Sync" in values
    assert "hub-grading-ngshare" not in by_name


PROBE = """
import json, sys
from unittest import mock
from ngshare import ngshare
seen = {}
class Server:
    def __init__(self, app):
        seen['admins'] = app.admin
        seen['storage'] = app.storage_path
        seen['database'] = str(app.db_session.kw['bind'].url)
        seen['oauth_callback'] = app.settings['redirect_uri']
    def listen(self, port, address=''):
        seen['listen'] = [port, address]
from tornado.platform.asyncio import BaseAsyncIOLoop
with mock.patch.object(ngshare, 'HTTPServer', Server), mock.patch.object(BaseAsyncIOLoop, 'start', lambda self: None):
    ngshare.main(sys.argv[1:])
print(json.dumps(seen))
"""


def test_ngshare_reads_the_rendered_command_and_environment(tmp_path: Path) -> None:
    """ngshare's own `main` (real, in venv-nbgrader) parses the Deployment's command and environment: it
    upgrades the database at the rendered path, listens on the Service's port, and names the sync its admin.
    Only the listening socket and the event loop are patched out (nothing listens, nothing runs)."""
    from tests.ngshare_harness import nbgrader_python

    cfg = stack_platform("dev")
    container = ngshare.deployment(cfg, "jhub-dev")["spec"]["template"]["spec"]["containers"][0]
    command = [part.replace(ngshare.DATA_DIR, str(tmp_path)) for part in container["command"]]
    assert command[:3] == ["python3", "-m", "ngshare"]
    env = {e["name"]: e.get("value", "token-from-secret") for e in container["env"]}
    env["PATH"] = "/usr/bin:/bin"
    probe = subprocess.run(
        [str(nbgrader_python()), "-c", PROBE, *command[3:]], env=env, capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == {
        "listen": [8080, "0.0.0.0"],
        "admins": ["ngshare-Sync"],
        "oauth_callback": "/services/ngshare/oauth_callback",
        "database": f"sqlite:///{tmp_path}/ngshare.db",
        "storage": f"{tmp_path}/files/",
    }
    assert (tmp_path / "ngshare.db").is_file()  # the schema upgrade ran on the volume's path
