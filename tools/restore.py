"""Restore from the platform's backups, step by step, with the operator.

    python -m tools.restore etcd   --stack prod --snapshot ID [--from cp-1]
    python -m tools.restore home   --stack prod --hub teaching --user alice [--at '2026-11-29 18:00']
    python -m tools.restore hub-db --stack prod --hub teaching [--snapshot ID]
    python -m tools.restore snapshots --stack prod --node cp-1 [--tag etcd]   (read-only, runs at once)

Each prints the whole runbook for this stack first (every step, its host, the exact command, and
where its script was written), then asks before each step and runs it over SSH as root
(`ssh user@host sudo -n bash -s < script`, with your SSH agent or key, and the stack's pinned host
key when there is one). `--dry-run` prints and writes the scripts only. Nothing runs without a "y".
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from components.backup import runbooks
from components.backup.runbooks import RunbookError, Step
from config.errors import ConfigError
from config.platform import PlatformConfig
from tools.render import ROOT, load_for_render

Runner = Callable[[Step, Path], int]
STEP_TIMEOUT_SECONDS = 3 * 3600


def ssh_command(cfg: PlatformConfig, step: Step, known_hosts: Path | None) -> list[str]:
    """The ssh invocation for a step's host; the script goes on stdin, never on the command line."""
    node = step.node
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-p", str(node.ssh.port or cfg.ssh.port)]
    if known_hosts is not None:
        cmd += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    if cfg.ssh.bastion is not None:
        b = cfg.ssh.bastion
        cmd += ["-J", f"{b.user}@{b.host}:{b.port}"]
    user = node.ssh.user or cfg.ssh.user
    sudo = "bash -s" if user == "root" else "sudo -n bash -s"
    return [*cmd, f"{user}@{node.address}", sudo]


def _known_hosts(cfg: PlatformConfig, step: Step, workdir: Path) -> Path | None:
    key = step.node.ssh.host_key
    if not key:
        return None
    path = workdir / f"known_hosts-{step.node.name}"
    port = step.node.ssh.port or cfg.ssh.port
    host = str(step.node.address) if port == 22 else f"[{step.node.address}]:{port}"
    path.write_text(f"{host} {key}\n")
    return path


def ssh_runner(cfg: PlatformConfig) -> Runner:
    def run(step: Step, script: Path) -> int:
        command = ssh_command(cfg, step, _known_hosts(cfg, step, script.parent))
        with script.open("rb") as stdin:
            return subprocess.run(command, stdin=stdin, timeout=STEP_TIMEOUT_SECONDS, check=False).returncode

    return run


def print_runbook(
    cfg: PlatformConfig, stack: str, title: str, steps: Sequence[Step], scripts: Sequence[Path], out: TextIO
) -> None:
    print(f"Restore runbook for stack {stack}: {title}", file=out)
    print(f"{len(steps)} step(s); each runs only after you answer y.", file=out)
    for i, (step, path) in enumerate(zip(steps, scripts, strict=True), start=1):
        print(f"\n{i}. [{step.node.name}] {step.title}", file=out)
        if step.detail:
            print(f"   does:   {step.detail}", file=out)
        print(f"   script: {path}", file=out)
        print(f"   runs:   {shlex.join(ssh_command(cfg, step, None))} < {path}", file=out)


def run_runbook(
    cfg: PlatformConfig,
    stack: str,
    title: str,
    steps: Sequence[Step],
    *,
    workdir: Path,
    dry_run: bool,
    assume_yes: bool,
    runner: Runner,
    ask: Callable[[str], str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Print the runbook, then run it step by step; returns the exit status."""
    out = out or sys.stdout
    ask = ask or input
    workdir.mkdir(parents=True, exist_ok=True)
    scripts = []
    for i, step in enumerate(steps, start=1):
        path = workdir / f"{i:02d}-{step.node.name}-{step.script.name}.sh"
        path.write_text(step.script.text)
        scripts.append(path)
    print_runbook(cfg, stack, title, steps, scripts, out)
    if dry_run:
        print("\n--dry-run: nothing was run.", file=out)
        return 0
    for i, (step, path) in enumerate(zip(steps, scripts, strict=True), start=1):
        if not assume_yes:
            answer = ask(f"\nRun step {i} on {step.node.name}: {step.title}? [y/N] ").strip().lower()
            if answer != "y":
                print(f"Stopped before step {i}; steps 1-{i - 1} are done. Re-running a step is safe.", file=out)
                return 1
        print(f"--> step {i} on {step.node.name}", file=out)
        status = runner(step, path)
        if status != 0:
            print(
                f"Step {i} failed (exit {status}); fix the cause and run the tool again (done steps are skipped or harmless).",
                file=out,
            )
            return status
    print("\nAll steps done.", file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.restore", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    common.add_argument("--stack-file", type=Path, help="read this stack file instead")
    common.add_argument("--dry-run", action="store_true", help="print the runbook and write its scripts; run nothing")
    common.add_argument("--yes", action="store_true", help="do not ask before each step")
    common.add_argument("--workdir", type=Path, help="where the step scripts are written (default: a new temp dir)")
    etcd = sub.add_parser("etcd", parents=[common], help="restore etcd on every control plane from one snapshot")
    etcd.add_argument("--snapshot", required=True, help="restic snapshot id (restic snapshots --tag etcd)")
    etcd.add_argument("--from", dest="source", help="control plane whose repository holds it (default: the first)")
    home = sub.add_parser("home", parents=[common], help="restore one user's home into restored-<date> in their home")
    home.add_argument("--hub", required=True)
    home.add_argument("--user", required=True, help="the user's folder name (escaped user name)")
    home.add_argument("--at", default="latest", help="'YYYY-MM-DD[ HH:MM[:SS]]' (NFS host's local time) or latest")
    hub_db = sub.add_parser("hub-db", parents=[common], help="restore a hub's database (hub scaled down meanwhile)")
    hub_db.add_argument("--hub", required=True)
    hub_db.add_argument("--snapshot", default="latest", help="restic snapshot id, default the latest copy")
    snapshots = sub.add_parser("snapshots", parents=[common], help="list one host's snapshots (read-only)")
    snapshots.add_argument("--node", required=True, help="the host whose repository to list")
    snapshots.add_argument("--tag", default="", help="etcd, homes, hub-db or hub=<name>")
    return parser


def main(argv: Sequence[str] | None = None, runner: Runner | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg, _, _ = load_for_render(args.stack_file or ROOT / f"Pulumi.{args.stack}.yaml")
        if args.what == "etcd":
            steps = runbooks.etcd_runbook(cfg, args.snapshot, args.source)
            title = f"etcd from snapshot {args.snapshot}"
        elif args.what == "home":
            steps = runbooks.home_runbook(cfg, args.hub, args.user, args.at)
            title = f"home of {args.user} on hub {args.hub} ({args.at})"
        elif args.what == "hub-db":
            steps = runbooks.hub_db_runbook(cfg, args.hub, args.snapshot)
            title = f"database of hub {args.hub} ({args.snapshot})"
        else:
            steps = runbooks.snapshots_runbook(cfg, args.node, args.tag)
            title = f"snapshots of {args.node} (read-only)"
    except ConfigError as err:
        for line in err.lines():
            print(line, file=sys.stderr)
        return 2
    except RunbookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"restore-{args.what}-"))
    read_only = args.what == "snapshots"  # listing changes nothing: no question to ask
    return run_runbook(
        cfg,
        args.stack,
        title,
        steps,
        workdir=workdir,
        dry_run=args.dry_run,
        assume_yes=args.yes or read_only,
        runner=runner or ssh_runner(cfg),
    )


if __name__ == "__main__":
    sys.exit(main())
