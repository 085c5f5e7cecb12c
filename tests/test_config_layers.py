"""The layers of config/ (pyproject.toml `[tool.importlinter]`): the contract holds on the real tree, and it
breaks where it must: a model importing PlatformConfig (even under TYPE_CHECKING), a new `*_rules`
module importing the assembled checks or another rule module, config importing Pulumi outside
`config.pulumi_source`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.contracts.layers import Layer, ModuleTail

from tools.import_layers import expand_layers

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _layer(*names: str, independent: bool = True) -> Layer:
    return Layer({ModuleTail(n) for n in names}, is_independent=independent)


def _names(layers: list[Layer]) -> list[set[str]]:
    return [{t.name for t in layer.module_tails} for layer in layers]


def test_patterns_place_modules_by_name_and_the_rest_goes_to_the_catch_all() -> None:
    layers = [_layer("checks"), _layer("*_rules", "hub_access"), _layer("*"), _layer("base", "errors")]
    children = {"checks", "gpu_rules", "nfs_rules", "hub_access", "hubs", "gpu", "base", "errors"}
    expanded = expand_layers(layers, children)
    assert _names(expanded) == [{"checks"}, {"gpu_rules", "nfs_rules", "hub_access"}, {"hubs", "gpu"}, {"base", "errors"}]
    assert [layer.is_independent for layer in expanded] == [True, True, False, True]


def test_a_pattern_matching_nothing_drops_its_layer() -> None:
    assert _names(expand_layers([_layer("*_queries"), _layer("*")], {"hubs"})) == [{"hubs"}]


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages the contracts read, to break on purpose."""
    for name in ("config", "components", "tools"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_violations_are_reported(tree: Path) -> None:
    gpu = tree / "config" / "gpu.py"
    gpu.write_text(gpu.read_text() + "\nif TYPE_CHECKING:\n    from config.platform import PlatformConfig\n")
    gpu.write_text(gpu.read_text().replace("from typing import ", "from typing import TYPE_CHECKING, ", 1))
    rules = '"""A new rule module."""\n\nfrom config.checks import check_platform\nfrom config.gpu_rules import GPU_CHECKS\n'
    (tree / "config" / "quota_rules.py").write_text(rules)
    (tree / "config" / "nfs_queries.py").write_text(
        (tree / "config" / "nfs_queries.py").read_text() + "\nimport pulumi\n"
    )
    out = _lint(tree)
    assert out.returncode == 1
    assert "config.gpu is not allowed to import config.platform" in out.stdout
    assert "config.quota_rules is not allowed to import config.checks" in out.stdout
    assert "config.quota_rules is not allowed to import config.gpu_rules" in out.stdout
    assert "config.nfs_queries -> pulumi" in out.stdout
