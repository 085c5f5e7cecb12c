"""queues.yaml and chart values: golden files, YuniKorn's own rules on the output, upstream chart keys."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from components.yunikorn.queues import render_partition, render_queues_yaml
from components.yunikorn.values import hub_identity_regexes, process_namespaces, yunikorn_values
from config.gpu_queries import gpu_resource_name
from config.loader import load_platform
from config.platform import PlatformConfig
from config.scheduler import NOTEBOOK_GROUP, SchedulerConfig, memory_bytes, millicores
from tests.helpers import check_golden, require_upstream, stack_raw

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # YuniKorn's own queue-name check (all releases)


def cfg(stack: str) -> PlatformConfig:
    raw, _ = stack_raw(stack)
    return load_platform(copy.deepcopy(raw), set(), missing_secrets_ok=True)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_queues_yaml_golden(stack: str) -> None:
    c = cfg(stack)
    check_golden("yunikorn", f"{stack}-queues.yaml", render_queues_yaml(c.scheduler, gpu_resource_name(c)))


def _amount(key: str, value: str) -> int:
    if key == "vcore":
        return millicores(value)
    if key == "memory":
        return memory_bytes(value)
    return int(value)


def yunikorn_problems(document: dict[str, Any]) -> list[str]:
    """An independent reading of YuniKorn's config validation, applied to the rendered document."""
    problems: list[str] = []
    partitions = document["partitions"]
    if [p["name"] for p in partitions] != ["default"]:
        problems.append("only the default partition works on Kubernetes")
    part = partitions[0]
    (root,) = part["queues"]
    if root["name"] != "root" or "resources" in root:
        problems.append("root must be named root and carry no resources")
    if root.get("submitacl", "").strip() == "*":
        problems.append("submitacl * on root opens every queue")

    def walk(q: dict[str, Any], parent_max: dict[str, int], path: str) -> None:
        res = q.get("resources", {})
        g = {k: _amount(k, v) for k, v in res.get("guaranteed", {}).items()}
        m = {k: _amount(k, v) for k, v in res.get("max", {}).items()}
        for k, v in g.items():
            if k in m and v > m[k]:
                problems.append(f"{path}: guaranteed {k} above max")
        for k, v in m.items():
            if k in parent_max and v > parent_max[k]:
                problems.append(f"{path}: max {k} above parent max")
        eff = {**parent_max, **{k: min(v, parent_max.get(k, v)) for k, v in m.items()}}
        sums: dict[str, int] = {}
        names = [c["name"] for c in q.get("queues", [])]
        if len(set(n.lower() for n in names)) != len(names):
            problems.append(f"{path}: duplicate child names")
        for child in q.get("queues", []):
            if not NAME.match(child["name"]):
                problems.append(f"{path}.{child['name']}: bad name")
            for k, v in child.get("resources", {}).get("guaranteed", {}).items():
                sums[k] = sums.get(k, 0) + _amount(k, v)
            walk(child, eff, f"{path}.{child['name']}")
        for k, v in sums.items():
            if (k in eff and v > eff[k]) or (k in g and v > g[k]):
                problems.append(f"{path}: children's guaranteed {k} too large")
        for limit in q.get("limits", []):
            if not limit.get("maxapplications"):
                problems.append(f"{path}: limit without maxapplications")
            if not (limit.get("users") or limit.get("groups")):
                problems.append(f"{path}: limit without users or groups")
        if "preemption.delay" in q.get("properties", {}) and q.get("queues"):
            problems.append(f"{path}: preemption.delay on a parent")

    walk(root, {}, "root")
    leaves: set[str] = set()

    def collect(q: dict[str, Any], path: str) -> None:
        if not q.get("queues"):
            leaves.add(path)
        for child in q.get("queues", []):
            collect(child, f"{path}.{child['name']}")

    collect(root, "root")
    for rule in part["placementrules"]:
        if rule["name"] == "fixed" and rule["value"] not in leaves:
            problems.append(f"fixed rule points at {rule['value']}, not a leaf")
        problems += _filter_problems(rule)
    return problems


SPECIAL = re.compile(r"[\^$*+?()\[{}|]")  # yunikorn-core configs.SpecialRegExp: what makes a name a regexp
FILTER_NAME = {"users": re.compile(r"^[_a-zA-Z][a-zA-Z0-9:_.@-]*[$]?$"), "groups": re.compile(r"^[_a-zA-Z][a-zA-Z0-9:_.-]*$")}


def _filter_problems(rule: dict[str, Any]) -> list[str]:
    """YuniKorn's filter check: type allow/deny; a single entry is a name, else it must be a real regexp."""
    flt = rule.get("filter")
    if flt is None:
        return []
    problems = [] if flt.get("type", "") in ("", "allow", "deny") else [f"{rule['name']}: bad filter type"]
    for kind in ("users", "groups"):
        entries = flt.get(kind, [])
        if len(entries) == 1 and not FILTER_NAME[kind].match(entries[0]):
            try:
                re.compile(entries[0])
            except re.error:
                problems.append(f"{rule['name']}: filter {kind} is no regexp")
            if not SPECIAL.search(entries[0]):
                problems.append(f"{rule['name']}: filter {kind} is neither a name nor a regexp")
    return problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_queues_pass_yunikorn_rules(stack: str) -> None:
    c = cfg(stack)
    document = yaml.safe_load(render_queues_yaml(c.scheduler, gpu_resource_name(c)))
    assert yunikorn_problems(document) == []


def test_the_independent_check_catches_a_bad_document() -> None:
    c = cfg("prod")
    document = render_partition(c.scheduler, "nvidia.com/gpu")
    document["partitions"][0]["queues"][0]["submitacl"] = "*"
    document["partitions"][0]["queues"][0]["queues"][0]["resources"]["guaranteed"]["vcore"] = "100"
    problems = yunikorn_problems(document)
    assert "submitacl * on root opens every queue" in problems
    assert "root.students: guaranteed vcore above max" in problems


def test_prod_queue_semantics() -> None:
    c = cfg("prod")
    part = render_partition(c.scheduler, gpu_resource_name(c))["partitions"][0]
    # The fallback rule never takes a notebook (the hub's marker group) nor a pod the hub SA left unlabelled.
    notebooks_out = {"type": "deny", "users": ["^system:serviceaccount:[^:]+:hub$"], "groups": [NOTEBOOK_GROUP]}
    assert part["placementrules"] == [
        {"name": "provided", "create": False},
        {"name": "fixed", "value": "root.system", "create": False, "filter": notebooks_out},
    ]
    assert "preemption" not in part  # deprecated partition key since YuniKorn 1.3
    root = part["queues"][0]
    assert "submitacl" not in root and root["adminacl"] == " admins"
    by_name = {q["name"]: q for q in root["queues"]}
    assert list(by_name) == ["students", "researchers", "gpu", "exam", "system"]
    assert by_name["students"]["submitacl"] == " students,admins,cs101-students,cs101-instructors"
    assert by_name["gpu"]["submitacl"] == " gpu-users,admins,ml201-students,ml201-instructors"
    assert by_name["gpu"]["resources"]["max"]["nvidia.com/gpu"] == "14"
    assert by_name["students"]["resources"]["max"]["nvidia.com/gpu"] == "0"
    assert by_name["exam"]["limits"][0]["maxapplications"] == 1
    assert by_name["exam"]["submitacl"] == by_name["students"]["submitacl"]
    for leaf in ("students", "researchers", "gpu", "exam"):
        assert by_name[leaf]["properties"]["application.sort.policy"] == "fair"
        assert by_name[leaf]["properties"]["preemption.policy"] == "disabled"
    assert by_name["students"]["limits"] == [
        {"limit": "one small server per student", "users": ["*"], "maxapplications": 1,
         "maxresources": {"vcore": "2", "memory": "8Gi"}},
    ]  # fmt: skip
    system = by_name["system"]
    assert system["submitacl"] == "*" and system["resources"]["max"]["nvidia.com/gpu"] == "0"


def test_gpu_key_follows_the_pool_resource_name() -> None:
    raw, _ = stack_raw("prod")
    raw = copy.deepcopy(raw)
    raw["gpu"]["sharing"] = {"mode": "time-slicing", "time_slicing": {"replicas": 7, "rename_shared": True}}
    c = load_platform(raw, set(), missing_secrets_ok=True)
    assert gpu_resource_name(c) == "nvidia.com/gpu.shared"
    text = render_queues_yaml(c.scheduler, gpu_resource_name(c))
    assert "nvidia.com/gpu.shared: '14'" in text and "nvidia.com/gpu: " not in text


def test_acl_rendering() -> None:
    leaves = [
        {"name": "a", "submit_acl": {"users": ["ann", "bo"], "groups": ["g1"]}},
        {"name": "b", "submit_acl": {"users": ["ann"]}},
        {"name": "c", "submit_acl": {}, "admin_acl": {"groups": ["ops"]}},
    ]
    s = SchedulerConfig.model_validate({"queues": [{"name": "root", "queues": leaves}]})
    queues = render_partition(s, "nvidia.com/gpu")["partitions"][0]["queues"][0]["queues"]
    assert [q.get("submitacl") for q in queues[:3]] == ["ann,bo g1", "ann", " "]
    assert queues[2]["adminacl"] == " ops"


# ---- chart values against the upstream 1.8.0 values file -------------------------------------


def _deprecated_keys(text: str) -> set[str]:
    """Dotted keys whose line in the upstream values file carries a `deprecated` comment."""
    stack: list[tuple[int, str]] = []
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^(\s*)([A-Za-z][\w-]*):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match.group(1)), match.group(2), match.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if "#" in rest and "deprecated" in rest.split("#", 1)[1].lower():
            found.add(".".join(k for _, k in stack))
    return found


def _key_paths(values: dict[str, Any], upstream: Any, prefix: str = "") -> list[tuple[str, bool]]:
    """(dotted key, exists upstream) for every key set; free-form maps (`{}` upstream) end the walk."""
    out: list[tuple[str, bool]] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        exists = isinstance(upstream, dict) and key in upstream
        out.append((path, exists))
        if exists and isinstance(value, dict) and upstream[key]:
            out.extend(_key_paths(value, upstream[key], f"{path}."))
    return out


def test_parser_finds_the_deprecated_keys() -> None:
    text = require_upstream("yunikorn-1.8.0-values.yaml").read_text()
    deprecated = _deprecated_keys(text)
    assert {"configuration", "operatorPlugins", "placeHolderImage", "admissionController.processNamespaces"} <= deprecated
    assert "admissionController.replicaCount" not in deprecated


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_values_only_use_current_upstream_keys(stack: str) -> None:
    text = require_upstream("yunikorn-1.8.0-values.yaml").read_text()
    upstream = yaml.safe_load(text)
    deprecated = _deprecated_keys(text)
    values = yunikorn_values(cfg(stack).scheduler, ["jhub-main", "jhub-research"])
    paths = _key_paths(values, upstream)
    assert [p for p, exists in paths if not exists] == []
    assert [p for p, _ in paths if p in deprecated] == []
    assert "yunikornDefaults" in dict(paths) and upstream["yunikornDefaults"] == {}


def test_key_check_catches_unknown_and_deprecated_keys() -> None:
    text = require_upstream("yunikorn-1.8.0-values.yaml").read_text()
    upstream = yaml.safe_load(text)
    paths = dict(_key_paths({"admissionController": {"replicas": 2, "processNamespaces": "^x$"}}, upstream))
    assert paths["admissionController.replicas"] is False
    assert "admissionController.processNamespaces" in _deprecated_keys(text)


def test_values_pin_images_and_admission() -> None:
    values = yunikorn_values(cfg("prod").scheduler, ["jhub-main"])
    assert values["image"]["tag"] == "scheduler-1.9.0"
    assert values["admissionController"]["image"]["tag"] == "admission-1.9.0"
    assert values["web"]["image"]["tag"] == "web-1.9.0"
    assert values["admissionController"]["replicaCount"] == 2
    assert values["embedAdmissionController"] is True


def test_only_the_hub_service_accounts_may_set_user_info() -> None:
    regexes = hub_identity_regexes(["jhub-main", "jhub-research"], "hub").split(",")

    def allowed(user: str) -> bool:
        return any(re.search(r, user) for r in regexes)

    assert allowed("system:serviceaccount:jhub-main:hub")
    assert allowed("system:serviceaccount:jhub-research:hub")
    for other in (
        "system:serviceaccount:jhub-main:default",
        "system:serviceaccount:jhub-main:hub-x",
        "system:serviceaccount:jhub-mainx:hub",
        "system:serviceaccount:kube-system:hub",
        "alice",
    ):
        assert not allowed(other), other
    settings = yunikorn_values(cfg("prod").scheduler, ["jhub-main"])["yunikornDefaults"]
    assert settings["admissionController.accessControl.externalUsers"] == "^system:serviceaccount:jhub-main:hub$"
    assert settings["admissionController.accessControl.bypassAuth"] == "false"


def test_only_hub_namespaces_are_processed() -> None:
    assert process_namespaces(["jhub-main", "jhub-x"]) == "^jhub-main$,^jhub-x$"
    assert process_namespaces([]) == "^$"  # never empty: empty would mean every namespace
