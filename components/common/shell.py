"""Render remote-step scripts: an `export` header, the shared helpers, then the step body.

Pure: no Pulumi import. What this returns is exactly what runs on the host.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

COMMON_SCRIPTS = Path(__file__).parent / "scripts"
_WRAP_MARKER = "JHUB_PLATFORM_STEP"


@dataclass(frozen=True)
class HostFile:
    """A file a step installs on the host; its content travels in the script header."""

    path: str
    """Absolute path on the host."""
    content: str
    """File content (no secrets: the script is visible in plan output)."""
    mode: str = "0644"
    """Octal permission bits."""


@dataclass(frozen=True)
class RenderedScript:
    """A complete step script and the files it installs (for the offline render)."""

    name: str
    text: str
    files: Mapping[str, HostFile] = field(default_factory=dict)


def _strip_preamble(text: str) -> str:
    # Drop the shebang and shellcheck directives of a source file; the header provides them.
    lines = text.splitlines()
    while lines and (lines[0].startswith("#!") or lines[0].startswith("# shellcheck shell=")):
        lines.pop(0)
    return "\n".join(lines).strip("\n")


@functools.cache
def read_body(path: Path) -> str:
    return _strip_preamble(path.read_text())


def render_script(
    name: str,
    body: Path | list[Path],
    params: Mapping[str, str | int | bool] | None = None,
    files: Mapping[str, HostFile] | None = None,
) -> RenderedScript:
    """Build the script for step `name` from `.sh` bodies, exported parameters and embedded files.

    Each file is exported as two variables: `VAR` (content) and `VAR_PATH`, plus `VAR_MODE`.
    """
    bodies = body if isinstance(body, list) else [body]
    return _assemble(name, [read_body(p) for p in bodies], params, files)


def render_sections(
    name: str,
    sections: Sequence[Sequence[Path]],
    params: Mapping[str, str | int | bool] | None = None,
    files: Mapping[str, HostFile] | None = None,
) -> RenderedScript:
    """Several steps' bodies back to back in one script (one SSH session instead of several).

    Each section runs in its own subshell, in order: an `exit 0` in one (an "already done" guard)
    ends only that section, while a failure stops the whole script (`set -e` sees the subshell fail),
    so a later section never runs after an earlier one failed.
    """
    texts = ["(\n" + "\n\n".join(read_body(p) for p in section) + "\n)" for section in sections]
    return _assemble(name, texts, params, files)


def _assemble(
    name: str,
    body_texts: list[str],
    params: Mapping[str, str | int | bool] | None,
    files: Mapping[str, HostFile] | None,
) -> RenderedScript:
    params = dict(params or {})
    files = dict(files or {})
    for key in [*params, *files]:
        if not key.isidentifier() or key.upper() != key:
            raise ValueError(f"script parameter {key!r} must be an UPPER_CASE identifier")
    header = [f"export STEP_NAME={shlex.quote(name)}"]
    for key in sorted(params):
        value = params[key]
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        header.append(f"export {key}={shlex.quote(text)}")
    for key in sorted(files):
        spec = files[key]
        header.append(f"export {key}_PATH={shlex.quote(spec.path)}")
        header.append(f"export {key}_MODE={shlex.quote(spec.mode)}")
        header.append(f"export {key}={shlex.quote(spec.content.rstrip(chr(10)))}")
    parts = [
        "#!/usr/bin/env bash",
        f"# {name}: rendered by jupyterhub-platform; edit the source, not this copy.",
        "set -euo pipefail",
        "\n".join(header),
        read_body(COMMON_SCRIPTS / "lib.sh"),
        *body_texts,
    ]
    text = "\n\n".join(parts) + "\n"
    if any(line == _WRAP_MARKER for line in text.splitlines()):
        raise ValueError(f"script {name} contains the wrapper marker line {_WRAP_MARKER}")
    return RenderedScript(name=name, text=text, files={spec.path: spec for spec in files.values()})


def remote_command(script: RenderedScript, user: str) -> str:
    """The command line pulumi-command sends: the script as bash's argument (stdin stays free for
    secrets), run as root through passwordless sudo unless the login user is root."""
    runner = "bash" if user == "root" else "sudo -n bash"
    return f"{runner} -c \"$(cat <<'{_WRAP_MARKER}'\n{script.text}{_WRAP_MARKER}\n)\" {shlex.quote(script.name)}"
