"""Mutation testing: does the suite notice when a rule or renderer changes?

    python -m tools.mutation config/scheduler_rules.py components/haproxy_lb/haproxy_cfg.py
    python -m tools.mutation --list components/common/shell.py      # the mutants only

For each module: the suite runs once under coverage with per-test contexts, so each line maps
to the tests that execute it; then every mutant (see `tools.mutants`) is written into a scratch
copy of the repository and only the tests covering its line run there. A mutant is *caught*
when a test fails (or the run times out), *survives* otherwise. The working tree is never
modified. Survivors judged equivalent (no test could tell them apart) are listed with the
reason in `tools/mutation_equivalents.json` and left out of the score.

Not part of CI (it runs the covering tests once per mutant: minutes per module); rerun it
whenever a rule or renderer changes. mutmut is not used: its forked workers hang on the
Pulumi SDK's gRPC threads here.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tools.mutants import Mutant, mutants

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.json"
_COPY_IGNORE = shutil.ignore_patterns("venv", "build", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis")


@dataclass
class ModuleResult:
    """The outcome for one module."""

    path: str
    caught: list[Mutant] = field(default_factory=list)
    survived: list[tuple[Mutant, str]] = field(default_factory=list)
    """Survivors with why: "no test covers this line" or "covering tests passed"."""
    equivalent: list[tuple[Mutant, str]] = field(default_factory=list)
    total: int = 0
    """Mutants of the module (more than judged with `--limit` or `--sample`)."""

    @property
    def score(self) -> float:
        counted = len(self.caught) + len(self.survived)
        return 100.0 * len(self.caught) / counted if counted else 100.0


def _module_path(name: str) -> str:
    """`config.scheduler_rules` or `config/scheduler_rules.py` -> the repository-relative path."""
    path = name if name.endswith(".py") else name.replace(".", "/") + ".py"
    if not (ROOT / path).is_file():
        raise SystemExit(f"error: {name}: no such module under {ROOT}")
    return path


def covering_tests(paths: list[str], tests: list[str], python: str) -> tuple[dict[tuple[str, int], set[str]], float]:
    """(module path, line) -> ids of the tests that execute that line, from one coverage run; and how
    many seconds that run took (the yardstick for a mutant that hangs)."""
    with tempfile.TemporaryDirectory(prefix="mutation-cov-") as tmp:
        data = Path(tmp) / ".coverage"
        cmd = [
            python, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider",
            "--cov-context=test", f"--cov={ROOT}", "--cov-report=", *tests,
        ]  # fmt: skip
        env = {**_env(), "COVERAGE_FILE": str(data)}
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-2000:])
            raise SystemExit("error: the unmutated suite must pass before mutants can be judged")
        return _read_contexts(data, paths), time.monotonic() - started


def _read_contexts(data: Path, paths: list[str]) -> dict[tuple[str, int], set[str]]:
    """Decode coverage's SQLite store (line bitmaps per file and context)."""
    db = sqlite3.connect(data)
    files = {row[1]: row[0] for row in db.execute("select id, path from file")}
    contexts = {row[0]: row[1] for row in db.execute("select id, context from context")}
    all_tests = {c.split("|", 1)[0] for c in contexts.values()} - {""}
    result: dict[tuple[str, int], set[str]] = defaultdict(set)
    for rel in paths:
        file_id = files.get(str(ROOT / rel))
        if file_id is None:
            continue
        for context_id, numbits in db.execute("select context_id, numbits from line_bits where file_id = ?", (file_id,)):
            test = contexts[context_id].split("|", 1)[0]
            for line in _numbits_to_lines(numbits):
                result[(rel, line)].add(test)
        # Lines run at import time (module constants, definitions) belong to no test (the empty
        # context); every test that uses the module may depend on them: those that run its code, and
        # those in a test file that imports it (a test may check a constant another module uses).
        users = {t for (path, _), tests in result.items() if path == rel for t in tests if t}
        users |= {t for t in all_tests if _imports(_test_source(t.split("::", 1)[0]), rel)}
        for key in [k for k in result if k[0] == rel]:
            if "" in result[key]:
                result[key] = (result[key] - {""}) | users
    db.close()
    return result


@functools.cache
def _test_source(path: str) -> str:
    test_file = ROOT / path
    return test_file.read_text() if test_file.is_file() else ""


def _imports(source: str, rel: str) -> bool:
    """Whether Python `source` imports the module at `rel` (`import a.b`, `from a.b import x`, `from a import b`)."""
    dotted = rel.removesuffix(".py").replace("/", ".")
    package, _, name = dotted.rpartition(".")
    if re.search(rf"^\s*(import|from)\s+{re.escape(dotted)}\b", source, re.M):
        return True
    for match in re.finditer(rf"^\s*from\s+{re.escape(package)}\s+import\s+(\([^)]*\)|.*)$", source, re.M):
        if name in re.findall(r"\w+", match[1]):
            return True  # (an alias spelled like the module also counts: one test more runs, none fewer)
    return False


def _numbits_to_lines(numbits: bytes) -> list[int]:
    return [i * 8 + bit for i, byte in enumerate(numbits) for bit in range(8) if byte & (1 << bit)]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONDONTWRITEBYTECODE": "1"}


def _covering_lines(mutant: Mutant, starts: dict[int, int] | None = None) -> range:
    """A mutant replaces a node that may span lines; its first line is the one coverage records. A line
    inside a multi-line statement (an entry of a dict literal) is not recorded at all: then the
    statement's first line stands for it."""
    return range((starts or {}).get(mutant.line, mutant.line), mutant.line + 1)


def statement_starts(source: str) -> dict[int, int]:
    """Line -> first line of the innermost statement that spans it (for lines of multi-line statements)."""
    starts: dict[int, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            span = node.end_lineno - node.lineno
            for line in range(node.lineno, node.end_lineno + 1):
                if line not in starts or span < starts[line][1]:
                    starts[line] = (node.lineno, span)
    return {line: first for line, (first, _) in starts.items()}


def run_mutant(scratch: Path, rel: str, mutant: Mutant, tests: set[str], python: str, timeout: int) -> bool:
    """True when the covering tests notice the mutant (fail or hang)."""
    target = scratch / rel
    original = target.read_text()
    target.write_text(mutant.source + "\n")
    args = scratch / ".mutation-tests"
    args.write_text("\n".join(sorted(tests)) + "\n")
    try:
        done = subprocess.run(
            [python, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", f"@{args}"],
            cwd=scratch, env=_env(), capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return done.returncode != 0
    except subprocess.TimeoutExpired:
        return True
    finally:
        target.write_text(original)


def _equivalents() -> dict[str, dict[str, str]]:
    return json.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.is_file() else {}


def chosen(all_mutants: list[Mutant], limit: int | None, sample: int | None, seed: int) -> list[Mutant]:
    """The mutants to judge: all, the first `limit`, or `sample` of them drawn at random (an estimate of
    the score in a fraction of the time; the same seed draws the same ones)."""
    picked = all_mutants[:limit] if limit is not None else all_mutants
    if sample is not None and sample < len(picked):
        keep = set(random.Random(seed).sample(range(len(picked)), sample))
        picked = [m for i, m in enumerate(picked) if i in keep]
    return picked


def mutate(
    paths: list[str], tests: list[str], timeout: int | None, limit: int | None, sample: int | None = None, seed: int = 0
) -> list[ModuleResult]:
    python = sys.executable
    coverage, seconds = covering_tests(paths, tests, python)
    # A mutant that loops forever (a deleted `pop` in a `while`) is caught once it runs well past the
    # clean run of ALL the tests; waiting a fixed 5 minutes for each of those wasted most of a run.
    timeout = timeout or max(60, round(3 * seconds))
    equivalents = _equivalents()
    results = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        scratch = Path(tmp) / "repo"
        shutil.copytree(ROOT, scratch, ignore=_COPY_IGNORE)
        for rel in paths:
            source = (ROOT / rel).read_text()
            every = list(mutants(source))
            starts = statement_starts(source)
            result = ModuleResult(rel, total=len(every))
            known = equivalents.get(rel, {})
            for mutant in chosen(every, limit, sample, seed):
                covering = set().union(*(coverage.get((rel, line), set()) for line in _covering_lines(mutant, starts)))
                if mutant.key in known:
                    result.equivalent.append((mutant, known[mutant.key]))
                elif not covering:
                    result.survived.append((mutant, "no test covers this line"))
                elif run_mutant(scratch, rel, mutant, covering, python, timeout):
                    result.caught.append(mutant)
                else:
                    result.survived.append((mutant, f"{len(covering)} covering test(s) passed"))
                _progress(rel, result)
            results.append(result)
    return results


def _progress(rel: str, result: ModuleResult) -> None:
    done = len(result.caught) + len(result.survived) + len(result.equivalent)
    print(f"\r{rel}: {done} mutants, {len(result.caught)} caught", end="", file=sys.stderr, flush=True)


def report(results: list[ModuleResult]) -> str:
    lines = []
    for r in results:
        judged = len(r.caught) + len(r.survived)
        of = len(r.caught) + len(r.survived) + len(r.equivalent)
        part = f"; a sample of {of} of {r.total} mutants" if of < r.total else ""
        lines.append(f"{r.path}: {r.score:.0f}% caught ({len(r.caught)}/{judged}; {len(r.equivalent)} equivalent{part})")
        lines.extend(f"  survived {m.key}  [{why}]" for m, why in r.survived)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+", help="module paths (config/x.py) or dotted names (config.x)")
    parser.add_argument("--tests", nargs="*", default=["tests"], help="test paths for the coverage run (default: tests)")
    parser.add_argument(
        "--timeout", type=int, help="seconds per mutant run; a hang counts as caught (default: 3x the clean run, at least 60)"
    )
    parser.add_argument("--limit", type=int, help="at most this many mutants per module (for a quick look)")
    parser.add_argument("--sample", type=int, help="judge this many mutants per module, drawn at random (an estimate)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of --sample (default 0)")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--min-score", type=float, default=0.0, help="exit 1 when a module scores below this")
    args = parser.parse_args(argv)
    paths = [_module_path(m) for m in args.modules]
    if args.list:
        for rel in paths:
            for mutant in mutants((ROOT / rel).read_text()):
                print(f"{rel}:{mutant.key}")
        return 0
    results = mutate(paths, args.tests, args.timeout, args.limit, args.sample, args.seed)
    print(file=sys.stderr)
    print(report(results))
    return 1 if any(r.score < args.min_score for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
