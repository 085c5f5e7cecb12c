"""Every value the platform sets on a chart is one the pinned chart reads (`components/common/chart_keys/`,
key lists taken from the charts' templates with `tools.chart_keys`, each with its source)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.gpu_pool.values import operator_values
from components.jupyterhub.values import SNIPPETS
from components.nfs_storage.manifests import csi_values
from tests.helpers import stack_platform
from tools.chart_keys import DATA, chart_keys, load_data, unread_values

Rendered = Callable[[str], tuple[dict[str, Any], Path]]
RELEASE = "kubernetes:helm.sh/v3:Release"


def releases(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == RELEASE]


# prod first: a later render of another stack in the same process keeps the first one's stack URN for the
# contract resource (tools.render; test_render_tool checks prod's parents, so prod must be rendered first).
@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_release_value_is_read_by_its_pinned_chart(rendered: Rendered, stack: str) -> None:
    plan, _ = rendered(stack)
    seen = []
    for release in releases(plan):
        inputs = release["inputs"]
        data = load_data(inputs["chart"], inputs["version"])
        assert data is not None, f"{release['name']}: no key list for {inputs['chart']} {inputs['version']} in {DATA}"
        assert unread_values(data, inputs["values"]) == [], release["name"]
        seen.append(inputs["chart"])
    assert {"csi-driver-nfs", "yunikorn", "jupyterhub", "tigera-operator"} <= set(seen)


def test_the_known_dead_keys_are_caught() -> None:
    gpu = load_data("gpu-operator", "v26.7.0")
    yunikorn = load_data("yunikorn", "1.9.0")
    csi = load_data("csi-driver-nfs", "4.13.4")
    assert gpu and yunikorn and csi
    assert unread_values(gpu, {"operator": {"defaultRuntime": "containerd"}}) == [
        "operator.defaultRuntime: not read by gpu-operator v26.7.0"
    ]
    assert unread_values(yunikorn, {"enableSchedulerPlugin": False}) == ["enableSchedulerPlugin: not read by yunikorn 1.9.0"]
    anti_affinity_only = {"controller": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}}}}
    assert [p.split(":")[0] for p in unread_values(csi, anti_affinity_only)] == ["controller.affinity"]
    # The platform's own values: the GPU Operator's, and the NFS controllers' spread, which now renders.
    assert unread_values(gpu, operator_values(stack_platform("prod"))) == []
    assert unread_values(csi, csi_values(2)) == []


def test_every_key_list_names_its_source() -> None:
    files = sorted(DATA.glob("*.json"))
    charts = {json.loads(path.read_text())["chart"] for path in files}
    pinned = {"csi-driver-nfs", "gpu-operator", "jupyterhub", "metallb", "nvidia-device-plugin", "tigera-operator", "yunikorn"}
    assert pinned <= charts
    for path in files:
        data = json.loads(path.read_text())
        assert path.name == f"{data['chart']}-{data['version']}.json"
        assert data["source"]["repository"].startswith("https://github.com/")
        assert re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"]) and data["source"]["path"]
        assert data["keys"] == sorted(set(data["keys"])) and set(data["added_by_hand"]) <= set(data["keys"])


def test_custom_platform_values_are_read_by_the_snippets(rendered: Rendered) -> None:
    """`custom.*` reaches the hub whole; the platform's snippets must read every key it puts there."""
    code = "\n".join(p.read_text() for p in SNIPPETS.glob("*.py"))
    plan, _ = rendered("prod")
    for release in releases(plan):
        platform = release["inputs"]["values"].get("custom", {}).get("platform", {})
        for key, value in platform.items():
            assert f'get_config("custom.platform.{key}"' in code or key == "hub", key
            if key in ("auth", "yunikorn"):
                assert all(f'"{sub}"' in code for sub in value), (key, sorted(value))


def test_the_scanner_on_a_small_chart(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.yaml").write_text(
        "replicas: {{ .Values.controller.replicas }}\n"
        "{{- with .Values.controller.affinity }}\naffinity: {{ toYaml . }}\n{{- end }}\n"
        "{{- with .Values.web }}\nport: {{ .port }}\n{{- end }}\n"
        '{{ index .Values "node-feature-discovery" "enabled" }}\n'
        "{{- range $k, $v := .Values.defaults }}{{ $k }}: {{ $v }}{{- end }}\n"
        "{{- with include \"x\" .Values.helper }}{{ .ignored }}{{- end }}\n"
    )
    py = tmp_path / "config.py"
    py.write_text('get_config("hub.db.type")\nfor k, v in get_config("hub.config", {}).items(): pass\n')
    assert chart_keys(tmp_path, [py]) == [
        "controller.affinity",
        "controller.affinity.*",
        "controller.replicas",
        "defaults",
        "defaults.*",
        "helper",
        "hub.config",
        "hub.config.*",
        "hub.db.type",
        "node-feature-discovery.enabled",
        "web",
        "web.port",
    ]
