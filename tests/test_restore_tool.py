"""`python -m tools.restore`: the runbook it prints for the prod stack, confirmation before each step,
--dry-run running nothing, and bad input refused with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.backup.runbooks import RunbookError, Step, point_in_time
from tools import restore


class Recorder:
    def __init__(self, status: int = 0) -> None:
        self.ran: list[tuple[str, str]] = []
        self.status = status

    def __call__(self, step: Step, script: Path) -> int:
        assert script.read_text() == step.script.text
        self.ran.append((step.node.name, step.script.name))
        return self.status


def test_etcd_dry_run_prints_the_runbook_with_members_and_peer_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    args = ["etcd", "--stack", "prod", "--snapshot", "4f3a2b1c", "--dry-run", "--workdir", str(tmp_path)]
    assert restore.main(args, runner=runner) == 0
    out = capsys.readouterr().out
    assert runner.ran == []
    assert "10 step(s)" in out and "--dry-run: nothing was run." in out
    cluster = "cp-1=https://192.0.2.21:2380,cp-2=https://192.0.2.22:2380,cp-3=https://192.0.2.23:2380"
    for name, address in (("cp-1", "192.0.2.21"), ("cp-2", "192.0.2.22"), ("cp-3", "192.0.2.23")):
        assert (
            f"etcdutl snapshot restore etcd-snapshot.db --name {name} --initial-cluster {cluster} "
            f"--initial-advertise-peer-urls https://{address}:2380 --data-dir /var/lib/etcd"
        ) in out
        assert f"ubuntu@{address} 'sudo -n bash -s' <" in out
    assert out.index("stop the API server and etcd on cp-3") < out.index("restore etcd member cp-1")
    assert out.index("restore etcd member cp-3") < out.index("start etcd and the API server on cp-1")
    assert "repository s3:https://s3.example.org/platform-backups/jupyterhub-platform/prod/cp-1" in out
    scripts = sorted(p.name for p in tmp_path.glob("*.sh"))
    assert scripts[0] == "01-cp-1-stop-control-plane.sh" and scripts[-1] == "10-cp-1-check-cluster.sh"
    member = (tmp_path / "05-cp-2-restore-etcd-cp-2.sh").read_text()
    assert "export MEMBER_NAME=cp-2" in member and "export PEER_URL=https://192.0.2.22:2380" in member


def test_each_step_waits_for_a_yes(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["y", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    runner = Recorder()
    args = ["hub-db", "--stack", "prod", "--hub", "teaching", "--workdir", str(tmp_path)]
    assert restore.main(args, runner=runner) == 1
    assert runner.ran == [("cp-1", "scale-hub-jhub-teaching-to-0")]
    assert "Stopped before step 2" in capsys.readouterr().out


def test_yes_runs_every_step_in_order_and_stops_at_a_failure(tmp_path: Path) -> None:
    runner = Recorder()
    args = ["hub-db", "--stack", "prod", "--hub", "teaching", "--yes", "--workdir", str(tmp_path)]
    assert restore.main(args, runner=runner) == 0
    assert runner.ran == [
        ("cp-1", "scale-hub-jhub-teaching-to-0"),
        ("worker-1", "restore-hub-db-teaching"),
        ("cp-1", "scale-hub-jhub-teaching-to-1"),
    ]
    failing = Recorder(status=3)
    assert restore.main([*args[:-1], str(tmp_path / "again")], runner=failing) == 3
    assert len(failing.ran) == 1


def test_home_restore_targets_the_users_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "home",
        "--stack",
        "prod",
        "--hub",
        "exam",
        "--user",
        "alice",
        "--at",
        "2026-11-29",
        "--dry-run",
        "--workdir",
        str(tmp_path),
    ]
    assert restore.main(args, runner=Recorder()) == 0
    script = next(tmp_path.glob("*.sh")).read_text()
    assert "export HOME_PATH=/srv/nfs/jupyterhub/homes/jhub-exam/alice" in script
    assert "export AT='2026-11-29 23:59:59'" in script
    assert "[nfs-1]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["home", "--hub", "teaching", "--user", "..", "--dry-run"], "error: --user '..': give the user's folder name"),
        (["home", "--hub", "teaching", "--user", "a", "--at", "yesterday"], "error: --at 'yesterday': use 'YYYY-MM-DD'"),
        (["etcd", "--snapshot", "latest; rm -rf /"], "error: --snapshot 'latest; rm -rf /': give a restic snapshot id"),
        (["etcd", "--snapshot", "4f3a2b1c", "--from", "worker-1"], "error: --from worker-1: not a control plane"),
        (["hub-db", "--hub", "nope"], "error: unknown hub 'nope' (hubs: teaching, exam, grading)"),
    ],
)
def test_bad_input_exits_2_with_the_reason(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Recorder()
    assert restore.main([*args, "--stack", "prod"], runner=runner) == 2
    assert capsys.readouterr().err.startswith(message)
    assert runner.ran == []


def test_point_in_time_forms() -> None:
    assert point_in_time("latest") == "latest"
    assert point_in_time("2026-11-29 18:05") == "2026-11-29 18:05:59"
    assert point_in_time("2026-11-29 18:05:10") == "2026-11-29 18:05:10"
    with pytest.raises(RunbookError):
        point_in_time("29.11.2026")


def test_stack_without_backups_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert restore.main(["home", "--stack", "dev", "--hub", "dev", "--user", "a"], runner=Recorder()) == 2
    assert "error: this stack has no backup section" in capsys.readouterr().err


def test_every_restore_script_passes_shellcheck(tmp_path: Path) -> None:
    from components.backup import jobs, runbooks
    from config.hub_database import HubDatabase
    from tests.helpers import shellcheck, stack_platform

    cfg = stack_platform("prod")
    steps = [*runbooks.etcd_runbook(cfg, "4f3a2b1c"), *runbooks.home_runbook(cfg, "teaching", "alice", "latest")]
    steps += runbooks.hub_db_runbook(cfg, "teaching", "latest")
    postgres = HubDatabase(type="postgres", url="postgresql+psycopg2://jhub@db.example.org:5433/grading")
    hubs = [h.model_copy(update={"database": postgres}) if h.name == "grading" else h for h in cfg.hubs]
    pg_steps = runbooks.hub_db_runbook(cfg.model_copy(update={"hubs": hubs}), "grading", "latest")
    assert "export PG_PORT=5433" in pg_steps[1].script.text and jobs.postgres_target("g", "postgresql://db/x").port == 5432
    seen = set()
    for step in [*steps, *pg_steps]:
        if step.script.name not in seen:
            seen.add(step.script.name)
            shellcheck(step.script.text, tmp_path, f"{step.script.name}.sh")
    assert len(seen) >= 12


def test_snapshots_are_listed_without_a_question(tmp_path: Path) -> None:
    runner = Recorder()
    assert (
        restore.main(
            ["snapshots", "--stack", "prod", "--node", "cp-2", "--tag", "etcd", "--workdir", str(tmp_path)], runner=runner
        )
        == 0
    )
    assert runner.ran == [("cp-2", "list-snapshots")]
    script = next(tmp_path.glob("*.sh")).read_text()
    assert "export TAG=etcd" in script and "prod/cp-2" in script
    assert restore.main(["snapshots", "--stack", "prod", "--node", "cp-2", "--tag", "x;y"], runner=runner) == 2
