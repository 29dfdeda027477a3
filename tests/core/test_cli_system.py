from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_process import run_cli


def test_help_teaches_the_flow():
    out = run_cli("--help")
    assert out.returncode == 0
    assert "relwatch db upgrade" in out.stdout and "doctor" in out.stdout


def test_db_upgrade_then_doctor_reports_every_backend(tmp_path: Path):
    env = {"RELWATCH_HOME": str(tmp_path / "h")}
    up = run_cli("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert "revision" in up.stdout
    doc = run_cli("doctor", env=env)
    for backend in ("database", "mlflow", "redis", "broker", "data dir"):
        assert backend in doc.stdout
    assert "schema 0001" in doc.stdout or "schema" in doc.stdout


def test_doctor_flags_unreachable_backend(tmp_path: Path):
    env = {"RELWATCH_HOME": str(tmp_path / "h"), "RELWATCH_REDIS_URL": "redis://127.0.0.1:1/0"}
    doc = run_cli("doctor", env=env)
    assert doc.returncode == 1
    assert "unreachable" in doc.stdout


def test_invalid_setting_is_one_line_exit_2(tmp_path: Path):
    out = run_cli("doctor", env={"RELWATCH_DATABASE_URL": "mysql://nope"})
    assert out.returncode == 2
    assert "RELWATCH_DATABASE_URL" in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_unknown_command_is_usage_error():
    out = run_cli("frobnicate")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


@pytest.mark.postgres
def test_db_upgrade_on_postgres(pg_url: str):
    out = run_cli("db", "upgrade", env={"RELWATCH_DATABASE_URL": pg_url})
    assert out.returncode == 0, out.stderr
    from relwatch.core.db import head_revision

    assert f"at revision {head_revision()}" in out.stdout
