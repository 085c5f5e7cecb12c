"""A real ngshare (the PyPI package, in this process) on 127.0.0.1, and the real nbgrader with the real
ngshare-exchange client (in `venv-nbgrader`, see below) run as separate users (not a test module).

ngshare runs in its own process with venv-nbgrader's Python (below: it needs SQLAlchemy 1.4).

What is stubbed, and only this: JupyterHub's `GET /hub/api/user`, the one hub call ngshare makes (it asks
the hub whose token a request carries), and `GET /hub/api/groups/<name>`, the one call the membership
sync makes. `hub_user_stub` answers them from a token -> owner table (a user, or a service such as
`ngshare-Sync`, as JupyterHub 5's whoami reports them) and a group -> members table, the way a hub
answers. Everything else (ngshare's courses, permissions, storage and database; nbgrader's release,
fetch, submit and collect through ngshare-exchange) is the real software.

Why a second venv: ngshare-exchange 0.5.3 (the newest) requires jupyter-core<4.11.2, which nbgrader 0.9
(jupyter-server>=2) cannot have; course images install it with `--no-deps` over nbgrader, and so does
tools/test.sh into `venv-nbgrader` (requirements-nbgrader.txt). ngshare 0.6.0 installs next to our hub pins but
does not work with their SQLAlchemy 2 (it relies on 1.x backref cascades: a released assignment is never
saved), so it runs there too, with SQLAlchemy 1.4 (as in its own image).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.helpers import ROOT

NBGRADER_PYTHON = ROOT / "venv-nbgrader" / "bin" / "python"
PREFIX = "/services/ngshare/"


def nbgrader_python() -> Path:
    if not NBGRADER_PYTHON.exists():
        raise AssertionError(f"{NBGRADER_PYTHON} is missing: run tools/test.sh (it creates venv-nbgrader)")
    return NBGRADER_PYTHON


@contextmanager
def hub_user_stub(
    tokens: dict[str, str], groups: dict[str, list[str]] | None = None, services: frozenset[str] = frozenset()
) -> Iterator[str]:
    """JupyterHub's `/hub/api/user` for the given tokens (owners named in `services` are services) and
    `/hub/api/groups/<name>` for the tokens of those services (read live from `groups`, so a test can change
    membership); yields the hub API URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = self.headers.get("Authorization", "").removeprefix("token ").strip()
            owner = tokens.get(token)
            path = self.path.rstrip("/")
            if owner is None:
                self.send_response(403)
                self.end_headers()
                return
            if path == "/hub/api/user":
                kind = "service" if owner in services else "user"
                model: dict[str, object] = {"kind": kind, "name": owner}
                if kind == "user":
                    model.update(admin=False, groups=[g for g, users in (groups or {}).items() if owner in users])
            elif path.startswith("/hub/api/groups/") and owner in services:
                name = path.removeprefix("/hub/api/groups/")
                if name not in (groups or {}):
                    self.send_response(404)
                    self.end_headers()
                    return
                model = {"kind": "group", "name": name, "users": list((groups or {})[name])}
            else:
                self.send_response(403)
                self.end_headers()
                return
            body = json.dumps(model).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def ngshare_server(workdir: Path, hub_api: str, admins: list[str]) -> Iterator[str]:
    """The real ngshare (tests/ngshare_serve.py) on 127.0.0.1:<ephemeral>; yields its base URL."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "JUPYTERHUB_API_URL": hub_api,
        "JUPYTERHUB_API_TOKEN": "service-token",
        "JUPYTERHUB_CLIENT_ID": "service-ngshare",
        "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
    }
    database = f"sqlite:///{workdir / 'ngshare.db'}"
    args = [str(nbgrader_python()), str(Path(__file__).with_name("ngshare_serve.py")), database, f"{workdir / 'ngshare-files'}/"]
    log = (workdir / "ngshare.log").open("w")
    proc = subprocess.Popen([*args, ",".join(admins)], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        ready = threading.Event()
        port: list[str] = []

        def read_port() -> None:
            assert proc.stdout is not None
            port.append(proc.stdout.readline().strip())
            ready.set()

        threading.Thread(target=read_port, daemon=True).start()
        assert ready.wait(60) and port[0].isdigit(), f"ngshare did not start: {(workdir / 'ngshare.log').read_text()}"
        yield f"http://127.0.0.1:{port[0]}{PREFIX.rstrip('/')}"
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def nbgrader(home: Path, user: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`nbgrader <args>` as `user` in `home` (its nbgrader_config.py points at ngshare)."""
    env = {
        # The venv's scripts first, as in the course image (nbgrader runs `alembic` by name).
        "PATH": f"{nbgrader_python().parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "USER": user,
        "JUPYTERHUB_USER": user,
        "JUPYTERHUB_API_TOKEN": token,
    }
    return subprocess.run(
        [str(nbgrader_python()), "-m", "nbgrader", *args], cwd=home, env=env, capture_output=True, text=True, timeout=180
    )


def nbgrader_config(home: Path, course: str, url: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {course!r}\n"
        "import ngshare_exchange\n"
        f"ngshare_exchange.configureExchange(c, {url!r})\n"
    )


NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "answer = None"}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
"""The one-cell notebook of assignment ps1."""


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"


def release_ps1(root: Path, users: list[str], url: str, teacher: str = "teacher1", token: str = "tok-teacher") -> dict[str, Path]:
    """A home per user under `root/homes` configured for course cs101's ngshare at `url`; `teacher` (the
    first instructor) generates and releases assignment ps1. Returns the homes by user."""
    homes = {user: root / "homes" / user for user in users}
    for home in homes.values():
        nbgrader_config(home, "cs101", url)
    source = homes[teacher] / "source" / "ps1"
    source.mkdir(parents=True)
    (source / "problem.ipynb").write_text(json.dumps(NOTEBOOK))
    ok(nbgrader(homes[teacher], teacher, token, "generate_assignment", "ps1", "--force"))
    ok(nbgrader(homes[teacher], teacher, token, "release_assignment", "ps1"))
    return homes
