"""Helpers of the real-engine tier (`tools/e2e.sh`): test charts, the stack files it previews, and the
comparison of a `pulumi preview --json` with the offline render's `plan.json`.

    python -m tools.e2e_support charts DIR PLAN.json...  # one small chart per Release, plus index.yaml
    python -m tools.e2e_support serve DIR PORT_FILE      # HTTP chart repository on 127.0.0.1 (port 0)
    python -m tools.e2e_support stack-file STACK URL OUT # the committed stack + charts from URL; prints secret keys
    python -m tools.e2e_support compare PLAN.json PREVIEW.json
    python -m tools.e2e_support s3-server PORT_FILE      # moto_server on 127.0.0.1 with bucket `contracts`
    python -m tools.e2e_support s3-object ENDPOINT KEY   # the object's JSON, or `absent`

The test charts are made here (a Chart.yaml and one ConfigMap template each, named and versioned as
the platform pins them): the tier checks that the engine and the real kubernetes provider load each
Release's chart from the configured source, not what the upstream charts contain.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import http.server
import io
import json
import sys
import tarfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# Registered by the engine itself, never by the program: left out of the comparison.
ENGINE_ONLY_TYPES = {"pulumi:pulumi:Stack"}
# A fixed time in chart archives and the index, so the charts are byte-identical run to run.
EPOCH = 1_700_000_000


def releases(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(chart, version) of every Release in a rendered plan, sorted, without repeats."""
    found = {
        (r["inputs"]["chart"], r["inputs"]["version"]) for r in plan["resources"] if r["type"] == RELEASE_TYPE
    }
    return sorted(found)


def chart_archive(chart: str, version: str) -> bytes:
    """A minimal Helm v2-API chart `<chart>-<version>.tgz` with one ConfigMap template."""
    chart_yaml = yaml.safe_dump(
        {"apiVersion": "v2", "name": chart, "version": version, "description": "jupyterhub-platform e2e test chart"}
    )
    template = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-e2e\n"
        f"data:\n  chart: {chart}-{version}\n"
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in ((f"{chart}/Chart.yaml", chart_yaml), (f"{chart}/templates/configmap.yaml", template)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=EPOCH)  # a fixed gzip time too


def write_chart_repository(charts: Iterable[tuple[str, str]], out: Path) -> Path:
    """Write each chart archive and the repository's `index.yaml` (what `helm repo index` makes) to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, list[dict[str, Any]]] = {}
    for chart, version in charts:
        archive = chart_archive(chart, version)
        filename = f"{chart}-{version}.tgz"
        (out / filename).write_bytes(archive)
        entries.setdefault(chart, []).append(
            {
                "apiVersion": "v2",
                "name": chart,
                "version": version,
                "urls": [filename],
                "digest": hashlib.sha256(archive).hexdigest(),
                "created": "2023-11-14T22:13:20Z",
            }
        )
    index = {"apiVersion": "v1", "entries": entries, "generated": "2023-11-14T22:13:20Z"}
    path = out / "index.yaml"
    path.write_text(yaml.safe_dump(index, sort_keys=True))
    return path


def serve(directory: Path, port_file: Path) -> None:
    """Serve `directory` on 127.0.0.1 (a free port, written to `port_file`) until killed."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port_file.write_text(f"{server.server_address[1]}\n")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    thread.join()


def stack_file(stack_yaml: str, charts_url: str, project: str = "jupyterhub-platform") -> str:
    """The stack file with every chart the platform installs taken from `charts_url`."""
    from config.charts import KNOWN_CHARTS

    document = yaml.safe_load(stack_yaml) or {}
    config = document.setdefault("config", {})
    config[f"{project}:charts"] = {"repository_overrides": {chart: charts_url for chart in KNOWN_CHARTS}}
    return yaml.safe_dump(document, sort_keys=False)


def secret_keys(stack_path: Path) -> list[str]:
    """Secret keys the stack needs (required by its config), to be given test values."""
    from config.loader import load_platform
    from config.secrets import required_secrets
    from tools.render import read_stack_file

    raw, keys = read_stack_file(stack_path)
    cfg = load_platform(raw, keys, missing_secrets_ok=True)
    return sorted({r.key for r in required_secrets(cfg)} | set(keys))


def _urn_type_and_name(urn: str) -> tuple[str, str]:
    # urn:pulumi:<stack>::<project>::<parent types$>type::<name>; the name may itself contain "::".
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2].rsplit("$", 1)[-1], parts[3]


def planned_resources(plan: Mapping[str, Any]) -> Counter[tuple[str, str]]:
    """(type, name) of every resource the offline render registered."""
    return Counter((r["type"], r["name"]) for r in plan["resources"])


def previewed_resources(preview: Mapping[str, Any]) -> Counter[tuple[str, str]]:
    """(type, name) of every resource a `pulumi preview --json` would create, update or keep, without
    what only the engine registers: the stack itself and default providers."""
    found: Counter[tuple[str, str]] = Counter()
    for step in preview.get("steps", []):
        typ, name = _urn_type_and_name(step["urn"])
        if typ in ENGINE_ONLY_TYPES or (typ.startswith("pulumi:providers:") and name.startswith("default")):
            continue
        if step.get("op") in {"delete", "discard", "read-discard", "delete-replaced"}:
            continue
        found[(typ, name)] += 1
    return found


def compare(plan: Mapping[str, Any], preview: Mapping[str, Any]) -> list[str]:
    """Differences between the render's resources and the preview's, one line each (empty: they match)."""
    planned, previewed = planned_resources(plan), previewed_resources(preview)
    lines = [f"only in plan.json: {t} {n} (x{c})" for (t, n), c in sorted((planned - previewed).items())]
    lines += [f"only in the preview: {t} {n} (x{c})" for (t, n), c in sorted((previewed - planned).items())]
    return lines


CONTRACT_BUCKET = "contracts"


def _s3_client(endpoint: str) -> Any:
    import boto3

    # moto accepts any credentials; these are the reader's, not the publisher's.
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="reader", aws_secret_access_key="reader"
    )


def s3_server(port_file: Path) -> None:
    """moto_server on 127.0.0.1 (a free port, written to `port_file`) with the contract bucket, until killed."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _s3_client(f"http://127.0.0.1:{port}").create_bucket(Bucket=CONTRACT_BUCKET)
    port_file.write_text(f"{port}\n")
    threading.Event().wait()


def s3_object(endpoint: str, key: str) -> Any:
    """The JSON document at `key` in the contract bucket, or None when there is none."""
    client = _s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=CONTRACT_BUCKET, Prefix=key).get("Contents", [])
    if not any(item["Key"] == key for item in listed):
        return None
    return json.loads(client.get_object(Bucket=CONTRACT_BUCKET, Key=key)["Body"].read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e_support", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    charts = sub.add_parser("charts")
    charts.add_argument("out", type=Path)
    charts.add_argument("plans", type=Path, nargs="+")
    served = sub.add_parser("serve")
    served.add_argument("directory", type=Path)
    served.add_argument("port_file", type=Path)
    stack = sub.add_parser("stack-file")
    stack.add_argument("stack_yaml", type=Path)
    stack.add_argument("charts_url")
    stack.add_argument("out", type=Path)
    cmp = sub.add_parser("compare")
    cmp.add_argument("plan", type=Path)
    cmp.add_argument("preview", type=Path)
    moto = sub.add_parser("s3-server")
    moto.add_argument("port_file", type=Path)
    obj = sub.add_parser("s3-object")
    obj.add_argument("endpoint")
    obj.add_argument("key")
    args = parser.parse_args(argv)
    if args.command == "s3-server":
        s3_server(args.port_file)
        return 0
    if args.command == "s3-object":
        document = s3_object(args.endpoint, args.key)
        print("absent" if document is None else json.dumps(document, sort_keys=True))
        return 0
    if args.command == "charts":
        found = {release for path in args.plans for release in releases(json.loads(path.read_text()))}
        write_chart_repository(sorted(found), args.out)
        return 0
    if args.command == "serve":
        serve(args.directory, args.port_file)
        return 0
    if args.command == "stack-file":
        args.out.write_text(stack_file(args.stack_yaml.read_text(), args.charts_url))
        print("\n".join(secret_keys(args.out)))
        return 0
    differences = compare(json.loads(args.plan.read_text()), json.loads(args.preview.read_text()))
    for line in differences:
        print(line)
    count = sum(planned_resources(json.loads(args.plan.read_text())).values())
    print(f"{'MISMATCH' if differences else 'match'}: {count} resources in plan.json", file=sys.stderr)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
