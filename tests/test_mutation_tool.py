"""`tools.mutants`: the mutants the mutation command judges the suite by."""

from __future__ import annotations

import ast

from tools.mutants import mutants

SAMPLE = '''
"""Module docstring."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from x import Y

LIMIT = 3


def check(value: int, names: list[str]) -> list[str]:
    """Docstring."""
    problems = []
    if value > LIMIT and not names:
        problems.append("too big")
    total = value + 1
    return problems if total >= 2 else []
'''


def test_every_operator_yields_the_expected_mutants() -> None:
    keys = [m.key for m in mutants(SAMPLE)]
    assert keys == [
        "8: 3 -> 4",
        "13: deleted `problems = []`",
        "14: and -> or",
        "14: not removed in not names",
        "14: value > LIMIT -> value >= LIMIT",
        "15: 'too big' -> 'too bigX'",
        "15: deleted `problems.append('too big')`",
        "16: 1 -> 2",
        "16: deleted `total = value + 1`",
        "16: value + 1 -> value - 1",
        "17: 2 -> 3",
        "17: total >= 2 -> total > 2",
    ]


def test_each_mutant_is_valid_python_differing_from_the_original_only_once() -> None:
    original = ast.unparse(ast.parse(SAMPLE))
    sources = [m.source for m in mutants(SAMPLE)]
    assert len(set(sources)) == len(sources)
    for source in sources:
        ast.parse(source)
        assert source != original
    # generating mutants leaves no trace: the next mutant starts from the original again
    assert sum(s.count("value >= LIMIT") for s in sources) == 1


def test_sample_and_limit_choose_a_stable_subset() -> None:
    from tools.mutation import ModuleResult, chosen, report

    every = list(mutants(SAMPLE))
    assert chosen(every, None, None, 0) == every
    assert chosen(every, 3, None, 0) == every[:3]
    drawn = chosen(every, None, 5, 7)
    assert len(drawn) == 5 and drawn == chosen(every, None, 5, 7)
    assert [m for m in every if m in drawn] == drawn  # source order kept
    assert chosen(every, None, 50, 0) == every
    result = ModuleResult("m.py", caught=drawn[:4], survived=[(drawn[4], "why")], total=len(every))
    assert report([result]).splitlines()[0] == f"m.py: 80% caught (4/5; 0 equivalent; a sample of 5 of {len(every)} mutants)"


TEMPLATE = '''
def render(name: str) -> str:
    return f"""\\
# a comment line
global
    user haproxy
    log {name} local0

backend b
    mode tcp
    mode tcp
"""


SCRIPT = """\\
set -euo pipefail
echo one
"""


def pair() -> tuple[int, int]:
    return (0, 0)
'''


def test_template_lines_are_deleted_one_at_a_time_and_equal_changes_get_their_own_keys() -> None:
    found = {m.key: m.source for m in mutants(TEMPLATE)}
    deletions = [k for k in found if "template line" in k]
    assert deletions == [
        "3: deleted template line 1: 'global'",
        "3: deleted template line 2: 'user haproxy'",
        "3: deleted template line 5: 'backend b'",
        "3: deleted template line 6: 'mode tcp'",
        "3: deleted template line 7: 'mode tcp'",
        "15: deleted template line 1: 'echo one'",
    ]  # comments, blank lines and lines holding a field are left alone
    namespace: dict[str, object] = {}
    exec(found["3: deleted template line 2: 'user haproxy'"], namespace)
    render = namespace["render"]
    assert callable(render)
    assert render("/dev/log") == "# a comment line\nglobal\n    log /dev/log local0\n\nbackend b\n    mode tcp\n    mode tcp\n"
    assert "return (1, 0)" in found["22: 0 -> 1"] and "return (0, 1)" in found["22: 0 -> 1 (#2)"]


def test_a_test_file_that_imports_a_module_counts_as_a_user_of_its_constants() -> None:
    from tools.mutation import _imports

    rel = "components/metallb/manifests.py"
    assert _imports("from components.metallb.manifests import CHART\n", rel)
    assert _imports("import components.metallb.manifests as m\n", rel)
    assert _imports("from components.metallb import component, manifests\n", rel)
    assert _imports("from components.metallb import (\n    component,\n    manifests,\n)\n", rel)
    assert not _imports("from components.metallb import component\n", rel)
    assert not _imports("from components.metallb.manifests_extra import X\n", rel)
    assert not _imports("# from components.metallb.manifests import CHART\nx = 1\n", rel)


def test_a_line_inside_a_multi_line_statement_is_covered_through_its_first_line() -> None:
    from tools.mutation import statement_starts

    source = (
        "NAMES = {\n    'a': 1,\n    'b': 2,\n}\n\n\n"
        "def f(x):\n    if x:\n        return [\n            x,\n        ]\n    return []\n"
    )
    starts = statement_starts(source)
    assert [starts[line] for line in (1, 2, 3, 4)] == [1, 1, 1, 1]
    assert [starts[line] for line in (7, 8, 9, 10, 11, 12)] == [7, 8, 9, 9, 9, 12]
