"""Time the offline render of prod and of the 200-worker fixture, and compare their shapes.

    python -m tools.bench_render
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tools.render import ROOT, render

SCALE_FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"


def timed(stack: str, path: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    plan = render(stack, path, out)
    return time.perf_counter() - start, len(plan["resources"])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        timed("prod", ROOT / "Pulumi.prod.yaml", Path(tmp) / "warmup")  # imports and first-run costs
        prod_s, prod_n = timed("prod", ROOT / "Pulumi.prod.yaml", Path(tmp) / "prod")
        scale_s, scale_n = timed("scale-200", SCALE_FIXTURE, Path(tmp) / "scale")
    print(f"prod:      {prod_n:5d} resources in {prod_s:6.2f} s")
    print(f"scale-200: {scale_n:5d} resources in {scale_s:6.2f} s  ({scale_s / prod_s:.1f}x prod)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
