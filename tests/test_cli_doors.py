"""Every CLI door answers bad input with one clear line and exit 2, before any work.

Each case is tried as a new user would, through the real entry point in a subprocess, and
checks that nothing half-written is left behind.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.classify.tiny_models import tfidf_model_dir
from tests.cli_process import run_cli


def home(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"RELWATCH_HOME": str(tmp_path / "home"), **extra}


def migrated(tmp_path: Path) -> dict[str, str]:
    env = home(tmp_path, RELWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'rw.db'}")
    assert run_cli("db", "upgrade", env=env).returncode == 0
    return env


def one_line_exit_2(result, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [{"id": 1, "text": "Japan and China signed a trade pact."}]


def test_extract_output_that_is_a_folder(tmp_path: Path):
    src = jsonl(tmp_path / "in.jsonl", ROWS)
    out = run_cli("extract", "-i", str(src), "-o", str(tmp_path), env=home(tmp_path))
    one_line_exit_2(out, "is a folder")


def test_extract_output_where_nothing_can_be_written(tmp_path: Path):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc, a folder no one can create files in")
    src = jsonl(tmp_path / "in.jsonl", ROWS)
    out = run_cli("extract", "-i", str(src), "-o", "/proc/relwatch-out.jsonl", env=home(tmp_path))
    one_line_exit_2(out, "cannot write")


def test_predict_into_a_missing_folder_creates_nothing(tmp_path: Path):
    src = jsonl(tmp_path / "in.jsonl", ROWS)
    target = tmp_path / "nonexistent" / "dir" / "out.jsonl"
    args = ["predict", "-m", str(tfidf_model_dir()), "-i", str(src), "-o", str(target)]
    one_line_exit_2(run_cli(*args, env=home(tmp_path)), "output folder does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_predict_on_a_binary_file(tmp_path: Path):
    binary = tmp_path / "weights.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    args = ["predict", "-m", str(tfidf_model_dir()), "-i", str(binary), "-o", str(tmp_path / "o")]
    one_line_exit_2(run_cli(*args, env=home(tmp_path)), "binary file")
    assert not (tmp_path / "o").exists()


def test_a_20_mb_line_is_refused_by_the_row_limit(tmp_path: Path):
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "war " * 5_000_000}) + "\n", encoding="utf-8")
    out = run_cli("extract", "-i", str(src), "-o", str(tmp_path / "o"), env=home(tmp_path))
    one_line_exit_2(out, "line 1", "over the 1,000,000 limit")
    args = ["predict", "-m", str(tfidf_model_dir()), "-i", str(src), "-o", str(tmp_path / "o")]
    one_line_exit_2(run_cli(*args, env=home(tmp_path)), "over the 1,000,000 limit")


@pytest.mark.parametrize("command", [["list"], ["show", "abcd1234"], ["submit", "doctor"]])
def test_jobs_before_db_upgrade(tmp_path: Path, command: list[str]):
    env = home(tmp_path, RELWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    one_line_exit_2(run_cli("jobs", *command, env=env), "run: relwatch db upgrade")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlitegarbage", "not a database URL"),
        ("mysql://x/y", "unsupported driver 'mysql'"),
        ("postgresql+psycopg2://u@h/db", "unsupported driver"),
    ],
)
def test_bad_database_urls(tmp_path: Path, url: str, fragment: str):
    out = run_cli("doctor", env=home(tmp_path, RELWATCH_DATABASE_URL=url))
    one_line_exit_2(out, "RELWATCH_DATABASE_URL", fragment)


def test_postgresql_url_without_driver_uses_psycopg(monkeypatch: pytest.MonkeyPatch):
    from relwatch.core.config import Settings

    monkeypatch.setenv("RELWATCH_DATABASE_URL", "postgresql://me@db.example/relwatch")
    assert Settings().database_url == "postgresql+psycopg://me@db.example/relwatch"


def test_jobs_submit_with_the_broker_down_leaves_no_queued_job(tmp_path: Path):
    env = migrated(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = run_cli(
        "jobs", "submit", "doctor", env={**env, "RELWATCH_BROKER_URL": f"redis://127.0.0.1:{port}"}
    )
    one_line_exit_2(out, "cannot reach the Celery broker")
    listed = run_cli("jobs", "list", env=env)
    assert listed.returncode == 0 and "doctor" not in listed.stdout


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (["-p", "directory=/nope"], "directory: no such folder"),
        (["-p", "limit=abc"], "limit: Input should be a valid integer"),
        (["-p", "limti=5"], "limti: unknown parameter"),
        (["-p", "novalue"], "expected KEY=VALUE"),
    ],
)
def test_job_parameters_are_checked_before_the_job_is_recorded(
    tmp_path: Path, params: list[str], fragment: str
):
    env = migrated(tmp_path)
    one_line_exit_2(run_cli("jobs", "submit", "import_reuters", *params, env=env), fragment)
    assert "import_reuters" not in run_cli("jobs", "list", env=env).stdout


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--quick", "--thorough"], "give quick or thorough, not both"),
        (["--thorough", "--model", "tfidf"], "the tfidf model has none"),
    ],
)
def test_train_presets_that_cannot_go_together(tmp_path: Path, flags: list[str], fragment: str):
    out = run_cli("train", *flags, env=home(tmp_path))
    one_line_exit_2(out, fragment)
    assert not (tmp_path / "home" / "runs").exists()


def test_jobs_show_takes_the_short_id_from_jobs_list(tmp_path: Path):
    env = migrated(tmp_path)
    job_id = run_cli("jobs", "submit", "doctor", env=env).stdout.strip()
    short = job_id[:8]
    assert short in run_cli("jobs", "list", env=env).stdout
    shown = run_cli("jobs", "show", short, env=env)
    assert shown.returncode == 0 and job_id in shown.stdout
    one_line_exit_2(run_cli("jobs", "show", "ffffffff", env=env), "no job ffffffff")


def test_data_summary_on_an_euc_kr_file(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_bytes("text,label\n한국과 일본이 협정을 맺었다,cooperation\n".encode("euc-kr"))
    one_line_exit_2(run_cli("data", "summary", str(path), env=home(tmp_path)), "not UTF-8")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n<REUTERS NEWID="1">\x00\x00</REUTERS>\n', "NUL"),
        (b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n<REUTERS NEWID="1"><TEXT>cut', "truncated"),
        (b"just some text, not SGML\n", "no <REUTERS> story"),
    ],
)
def test_damaged_reuters_files_are_refused_before_import(
    tmp_path: Path, content: bytes, fragment: str
):
    env = migrated(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "reut2-000.sgm").write_bytes(content)
    one_line_exit_2(run_cli("import", "reuters", str(corpus), env=env), fragment)


def test_text_that_is_not_english_is_counted_and_warned(tmp_path: Path):
    rows = [*ROWS, {"id": 2, "text": "한국과 일본은 오늘 서울에서 무역 협정을 체결했다고 밝혔다."}]
    src = jsonl(tmp_path / "in.jsonl", rows)
    out = run_cli("extract", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), env=home(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "1 row(s) do not look like English" in out.stderr
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 2


@pytest.mark.postgres
def test_a_missing_postgresql_database_says_createdb(tmp_path: Path):
    from tests.conftest import PG_ADMIN_URL, require_service

    require_service("PostgreSQL", PG_ADMIN_URL, 5432)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/relwatch_no_such_db"
    out = run_cli("jobs", "list", env=home(tmp_path, RELWATCH_DATABASE_URL=url))
    one_line_exit_2(out, "createdb relwatch_no_such_db")
