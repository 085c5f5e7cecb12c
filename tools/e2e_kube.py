"""The real-engine tier's Kubernetes API server on 127.0.0.1 (`tools/e2e.sh cluster`): its PKI, its
kubeconfig, the existing-cluster stack applied to it, and plain HTTPS reads of what that stack made.

    python -m tools.e2e_kube pki DIR                      # CA, serving cert, admin client cert, SA key pair
    python -m tools.e2e_kube ports N                      # N ports on 127.0.0.1 that were free a moment ago
    python -m tools.e2e_kube wait-ready DIR URL SECONDS   # until /readyz answers ok (bounded)
    python -m tools.e2e_kube kubeconfig DIR URL           # kubeconfig with the client cert, on stdout
    python -m tools.e2e_kube stack-file STACK URL OUT     # STACK in existing-cluster mode + charts from URL
    python -m tools.e2e_kube objects PLAN.json DIR URL WHEN  # WHEN: up | protected | destroyed

No kubectl: every check is an HTTPS GET with the admin client certificate. The objects a stack should
have made are read from the offline render's plan.json of the same stack file (each Kubernetes object
by kind, namespace and name; each Release by the ConfigMap its test chart holds), so the check follows
the program rather than a list written here.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import json
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# Where each kind the test stack makes lives in the API (a kind not listed here fails the check loudly).
API_PATHS = {
    "kubernetes:core/v1:Namespace": "/api/v1/namespaces/{name}",
    "kubernetes:core/v1:Secret": "/api/v1/namespaces/{namespace}/secrets/{name}",
    "kubernetes:core/v1:ConfigMap": "/api/v1/namespaces/{namespace}/configmaps/{name}",
    "kubernetes:core/v1:PersistentVolume": "/api/v1/persistentvolumes/{name}",
    "kubernetes:core/v1:PersistentVolumeClaim": "/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}",
    "kubernetes:storage.k8s.io/v1:StorageClass": "/apis/storage.k8s.io/v1/storageclasses/{name}",
    "kubernetes:core/v1:Service": "/api/v1/namespaces/{namespace}/services/{name}",
    "kubernetes:apps/v1:Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
    "kubernetes:batch/v1:CronJob": "/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}",
}


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(
    subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *, ca: bool = False, server: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    if server:
        names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.add_extension(usage, critical=True).sign(issuer_key, hashes.SHA256())


def write_pki(out: Path) -> None:
    """A throw-away CA (valid one day) and, signed by it, the API server's serving certificate for
    127.0.0.1/localhost and an admin client certificate (group system:masters); plus the service-account
    signing key pair kube-apiserver requires. Private keys are written mode 0600."""
    out.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jupyterhub-platform e2e CA")])
    ca = _cert(ca_name, ca_key, None, ca=True)
    files: dict[str, bytes] = {"ca.crt": ca.public_bytes(serialization.Encoding.PEM)}
    for stem, subject, server in (
        ("apiserver", x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]), True),
        ("admin", x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "e2e-admin"),
        ]), False),
    ):
        key = _key()
        files[f"{stem}.crt"] = _cert(subject, key, (ca_name, ca_key), server=server).public_bytes(serialization.Encoding.PEM)
        files[f"{stem}.key"] = _pem_key(key)
    sa_key = _key()
    files["sa.key"] = _pem_key(sa_key)
    files["sa.pub"] = sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        path.chmod(0o600 if name.endswith(".key") else 0o644)


def free_ports(count: int) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that were free a moment ago (held open together while picked)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def kubeconfig(pki: Path, url: str) -> str:
    """A kubeconfig for `url` trusting the test CA, authenticating with the admin client certificate."""
    def b64(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    return yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": {"server": url, "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": "e2e-admin", "user": {
            "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e-admin"}}],
        "current-context": "e2e",
    }, sort_keys=False)


def _context(pki: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return context


def get(pki: Path, url: str, path: str, timeout: float = 10) -> tuple[int, Any]:
    """GET `url+path` with the admin certificate: (status, parsed JSON body or the text)."""
    try:
        with urllib.request.urlopen(url + path, context=_context(pki), timeout=timeout) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as err:
        body, status = err.read().decode(), err.code
    try:
        return status, json.loads(body)
    except json.JSONDecodeError:
        return status, body


def wait_ready(pki: Path, url: str, seconds: float) -> bool:
    """True once /readyz answers 200 `ok`, polling every half second for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if get(pki, url, "/readyz", timeout=5) == (200, "ok"):
                return True
        except (OSError, ssl.SSLError):
            pass  # not listening yet
        time.sleep(0.5)
    return False


def existing_cluster_stack(stack_yaml: str, charts_url: str) -> str:
    """The committed stack in existing-cluster mode, as README "Trying it on an existing cluster" says
    (no SSH: an external NFS server, the hub database on the cluster's own StorageClass, the cluster's
    own load balancer), the hub with its default `protect: true`, every chart from `charts_url`."""
    from tools.e2e_support import stack_file

    document = yaml.safe_load(stack_yaml)
    config = document["config"]
    config["jupyterhub-platform:cluster"]["mode"] = "existing"
    for node in config["jupyterhub-platform:inventory"]["nodes"]:
        node["roles"] = [r for r in node["roles"] if r == "worker"] or ["worker"]
    # 192.0.2.0/24 is a documentation range: only written into the volumes, never reached.
    config["jupyterhub-platform:nfs"] = {"mode": "external", "server": "192.0.2.200", "export_path": "/export/hub"}
    config["jupyterhub-platform:traffic"] = {"external_load_balancer": True}
    for hub in config["jupyterhub-platform:hubs"]:
        hub["database"] = {"storage_class": "standard"}
        hub.pop("protect", None)
    return stack_file(yaml.safe_dump(document, sort_keys=False), charts_url)


def expected_objects(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every object the stack's resources put into the API server: its path, and the resource's
    protect and retain_on_delete options. A Release is seen through its test chart's ConfigMap
    (`<release>-e2e`, see tools/e2e_support.chart_archive)."""
    found = []
    for r in plan["resources"]:
        if r["type"] == RELEASE_TYPE:
            inputs = r["inputs"]
            path = API_PATHS["kubernetes:core/v1:ConfigMap"].format(namespace=inputs["namespace"], name=f"{inputs['name']}-e2e")
        elif r["type"].startswith("kubernetes:"):
            if r["type"] not in API_PATHS:
                raise ValueError(f"{r['name']}: no API path known for {r['type']} (add it to API_PATHS)")
            meta = r["inputs"]["metadata"]
            path = API_PATHS[r["type"]].format(namespace=meta.get("namespace", ""), name=meta["name"])
        else:
            continue
        found.append({"name": r["name"], "type": r["type"], "path": path,
                      "protect": r["protect"], "retain": r["retain_on_delete"]})
    return found


def check_objects(plan: Mapping[str, Any], pki: Path, url: str, when: str, snapshot: Path) -> list[str]:
    """Problems (empty: as expected) with the stack's objects in the API server:
    up: all exist (their resourceVersions are written to `snapshot`); unchanged: all exist with the
    resourceVersions of `snapshot` (nothing was rewritten); protected: every protected object still
    exists; destroyed: retained objects exist, the others are gone (a Namespace may stay Terminating:
    there is no namespace controller without kube-controller-manager)."""
    problems: list[str] = []
    versions: dict[str, str] = {}
    before = json.loads(snapshot.read_text()) if when == "unchanged" else {}
    for obj in expected_objects(plan):
        status, body = get(pki, url, obj["path"])
        exists = status == 200
        label = f"{obj['name']} ({obj['path']})"
        if status not in (200, 404):
            problems.append(f"{label}: HTTP {status}: {str(body)[:200]}")
            continue
        if when in ("up", "unchanged"):
            if not exists:
                problems.append(f"{label}: missing")
                continue
            versions[obj["path"]] = body["metadata"]["resourceVersion"]
            if when == "unchanged" and before.get(obj["path"]) != versions[obj["path"]]:
                problems.append(f"{label}: rewritten (resourceVersion {before.get(obj['path'])} -> {versions[obj['path']]})")
        elif when == "protected":
            if obj["protect"] and not exists:
                problems.append(f"{label}: protected, but deleted")
        elif when == "destroyed":
            terminating = exists and obj["type"] == "kubernetes:core/v1:Namespace" and body["metadata"].get("deletionTimestamp")
            if obj["retain"] and not exists:
                problems.append(f"{label}: retain_on_delete, but deleted")
            elif not obj["retain"] and exists and not terminating:
                problems.append(f"{label}: still there after destroy")
        else:
            raise ValueError(f"unknown check {when!r}")
    if when == "up":
        snapshot.write_text(json.dumps(versions, indent=1, sort_keys=True))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e_kube", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("pki").add_argument("dir", type=Path)
    sub.add_parser("ports").add_argument("count", type=int)
    ready = sub.add_parser("wait-ready")
    kube = sub.add_parser("kubeconfig")
    for p in (ready, kube):
        p.add_argument("dir", type=Path)
        p.add_argument("url")
    ready.add_argument("seconds", type=float)
    stack = sub.add_parser("stack-file")
    stack.add_argument("stack_yaml", type=Path)
    stack.add_argument("charts_url")
    stack.add_argument("out", type=Path)
    objects = sub.add_parser("objects")
    for name in ("plan", "dir", "url", "when", "snapshot"):
        objects.add_argument(name, type=str if name in ("url", "when") else Path)
    args = parser.parse_args(argv)
    if args.command == "pki":
        write_pki(args.dir)
    elif args.command == "ports":
        print(" ".join(str(p) for p in free_ports(args.count)))
    elif args.command == "wait-ready":
        return 0 if wait_ready(args.dir, args.url, args.seconds) else 1
    elif args.command == "kubeconfig":
        sys.stdout.write(kubeconfig(args.dir, args.url))
    elif args.command == "stack-file":
        from tools.e2e_support import secret_keys

        args.out.write_text(existing_cluster_stack(args.stack_yaml.read_text(), args.charts_url))
        print("\n".join(secret_keys(args.out)))
    else:
        problems = check_objects(json.loads(args.plan.read_text()), args.dir, args.url, args.when, args.snapshot)
        for line in problems:
            print(f"e2e: {line}", file=sys.stderr)
        count = len(expected_objects(json.loads(args.plan.read_text())))
        print(f"e2e: {args.when}: {count} objects checked, {len(problems)} problems", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
