"""Record the SHA-256 of every collected submission file, beside the grades (exam mode).

Run by the instructor right after `nbgrader collect <assignment>` in the course directory (the grader
profile's image carries it as `record-checksums`): writes `checksums/<assignment>.sha256` next to
`gradebook.db`, one `<sha256>  submitted/<student>/<assignment>/<file>` line per file, in the format
`sha256sum -c` verifies. An existing record is never overwritten: a second collection writes
`<assignment>.<n>.sha256`, so a later change to a submission shows up as a mismatch against the first.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record(course_dir: Path, assignment: str) -> Path:
    files = sorted(p for p in (course_dir / "submitted").glob(f"*/{assignment}/**/*") if p.is_file())
    if not files:
        raise SystemExit(f"error: no collected files for {assignment!r} under submitted/; run nbgrader collect first")
    out_dir = course_dir / "checksums"
    out_dir.mkdir(exist_ok=True)
    target, n = out_dir / f"{assignment}.sha256", 1
    while target.exists():
        n += 1
        target = out_dir / f"{assignment}.{n}.sha256"
    lines = [f"{digest(p)}  {p.relative_to(course_dir).as_posix()}\n" for p in files]
    with target.open("x") as f:
        f.writelines(lines)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: record-checksums <assignment>   (in the course directory, after nbgrader collect)")
    print(record(Path.cwd(), sys.argv[1]))
