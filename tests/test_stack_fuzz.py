"""Property: any edit of a committed stack file renders (exit 0) or is refused with `error:` lines (exit 2).

Hypothesis mutates Pulumi.dev.yaml and Pulumi.prod.yaml (deleted keys, renamed keys, values of another
type, strings of every shape, out-of-range numbers, URLs with credentials, unicode) and runs the render
CLI's `main` in this process: a traceback, any other exit code, a stderr line that is not `error: ...`, or
a planted credential echoed back fails the test. Derandomized with a fixed example budget, so CI runs the
same examples every time (`FUZZ_EXAMPLES` raises the budget for a longer local search).
"""

from __future__ import annotations

import contextlib
import io
import os
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.common import artifacts
from tests.helpers import ROOT
from tools import render as render_tool

SECRET = "s3cr3t-Pa55"
"""Planted as the password of every URL with credentials; must never appear in the output."""
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

SHAPES = [
    "", " ", "latest", "v3.30", "1.34", "3", "-1", "0.0001", "1e400", "NaN", "true", "null", "~", "*", "..", "/", ":",
    "@", "a" * 300, "ünïcödé", "名前", "😀", "\t", "a\nb", "root.", "root.students", "https://jupyter.example.org",
    "jupyter.example.org/hub", f"https://admin:{SECRET}@example.org/x", f"ldap://u:{SECRET}@ldap.example.org",
    "ldap://ldap.example.org", "ssh-ed25519", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    "quay.io/jupyter/scipy-notebook", "registry:5000/x:1@sha256:" + "a" * 64, "Bad_Label!", "me@", "192.0.2.999",
    "0.0.0.0/0", "10.0.0.0/8", "-", "--help", "$(reboot)", "'; rm -rf /", "%s%n", "{stack}", "{{x}}",
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
STRINGS = st.one_of(st.sampled_from(SHAPES), TEXT)
NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 7, 63, 64, 65535, 65536, 30000, 32768, 2**31, 2**63, 10**30]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(STRINGS, NUMBERS, st.booleans(), st.none())
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(STRINGS, SCALARS, max_size=2),
)


def _load(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _parent(doc: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    return node


def _with_credentials(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    return f"{scheme}://someone:{SECRET}@{rest}" if sep else value


@st.composite
def mutated(draw: st.DrawFn, stack: str) -> dict[str, Any]:
    doc = _load(stack)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not isinstance(doc.get("config"), dict) or not doc["config"]:
            break
        paths = _paths(doc["config"], ("config",))
        path = draw(st.sampled_from(paths))
        parent, key = _parent(doc, path), path[-1]
        kind = draw(st.sampled_from(["delete", "replace", "replace", "replace", "rename", "credentials"]))
        if kind == "delete":
            del parent[key]
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(STRINGS)] = parent.pop(key)
        elif kind == "credentials":
            urls = [p for p in paths if isinstance(_parent(doc, p)[p[-1]], str) and "://" in _parent(doc, p)[p[-1]]]
            if urls:
                target = draw(st.sampled_from(urls))
                holder = _parent(doc, target)
                holder[target[-1]] = _with_credentials(holder[target[-1]])
        else:
            parent[key] = draw(VALUES)
    return doc


def _render(doc: dict[str, Any], tmp: Path) -> tuple[int, str]:
    path = tmp / "Pulumi.fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    artifacts.reset()
    stderr, stdout = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            code = render_tool.main(["fuzz", "--stack-file", str(path), "--out", str(tmp / "out")])
    except BaseException:  # a traceback is exactly the failure this test looks for
        pytest.fail(f"traceback for:\n{path.read_text()}\n{traceback.format_exc()}")
    return code, stderr.getvalue()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_mutation_renders_or_is_refused_cleanly(stack: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(doc=mutated(stack))
    def check(doc: dict[str, Any]) -> None:
        code, err = _render(doc, tmp_path_factory.mktemp("fuzz"))
        assert code in (0, 2), err
        lines = [line for line in err.splitlines() if line]
        if code == 2:
            assert lines, "exit 2 without a reason"
            bad = [line for line in lines if not line.startswith("error: ")]
            assert not bad, f"not an error line: {bad}"
        assert SECRET not in err, err
        assert "Traceback" not in err

    check()
