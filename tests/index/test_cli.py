"""``relwatch index`` through the real entry point, as a user's shell runs it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from relwatch.core import db
from relwatch.index import build_index
from tests.cli_process import run_cli
from tests.index.conftest import MODEL, insert_units
from tests.index.synth import DAY0, random_effects_days


@pytest.fixture
def env(db_url: str, tmp_path) -> dict[str, str]:
    rng = np.random.default_rng(7)
    builder, _ = random_effects_days(
        rng, n_days=14, articles=(1, 3), sentences=(1, 3), a="USA", b="JPN", direction="a->b"
    )
    insert_units(db_url, builder.frame())
    return {"RELWATCH_HOME": str(tmp_path / "home"), "RELWATCH_DATABASE_URL": db_url}


def test_build_show_evidence_export(env: dict[str, str], tmp_path):
    res = run_cli("index", "build", env=env)
    assert res.returncode == 0, res.stderr
    assert "14 days recomputed" in res.stdout

    res = run_cli("index", "show", "--pair", "usa-jpn", "--grain", "week", env=env)
    assert res.returncode == 0, res.stderr
    assert "JPN–USA by week" in res.stdout and "2024-01-08" in res.stdout
    chart = tmp_path / "home" / "charts" / "JPN-USA_week.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    own = tmp_path / "uj.png"
    res = run_cli("index", "show", "-p", "USA-JPN", "--directed", "--chart", str(own), env=env)
    assert res.returncode == 0 and "USA→JPN by day" in res.stdout and own.exists()

    day = (DAY0 + dt.timedelta(days=3)).isoformat()
    res = run_cli("index", "evidence", "--pair", "USA-JPN", "--date", day, "--limit", "2", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("contribution") == 2
    assert "the United States and Japan talked" in res.stdout
    assert "https://news.example/" in res.stdout and "relwatch-relation@1" in res.stdout

    out = tmp_path / "index.parquet"
    res = run_cli("index", "export", "--format", "parquet", "--output", str(out), env=env)
    assert res.returncode == 0, res.stderr
    frame = pd.read_parquet(out)
    assert len(frame) == 14 * 2 and f"wrote {len(frame)} rows" in res.stdout


def test_bad_input_is_one_line_and_exit_2(env: dict[str, str]):
    with db.session_scope(env["RELWATCH_DATABASE_URL"]) as session:
        build_index(session, model_name=MODEL[0], model_version=MODEL[1])
    res = run_cli("index", "alerts", "--pair", "USA-JPN", env=env)
    assert res.returncode == 0 and "no alerts" in res.stdout
    for args, words in (
        (("index", "show", "--pair", "USA-JAPAN"), "expected two ISO3 codes"),
        (("index", "evidence", "--pair", "USA-JPN", "--date", "17/04/1987"), "YYYY-MM-DD"),
        (("index", "evidence", "--pair", "USA-JPN", "--date", "1999-01-01"), "no predictions"),
        (("index", "build", "--model", "nope@1"), "no predictions"),
    ):
        res = run_cli(*args, env=env)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert words in res.stderr and "Traceback" not in res.stderr
