"""The README is the user's manual: keep it in step with the code."""

from __future__ import annotations

from pathlib import Path

from relwatch.core.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [
        f"RELWATCH_{name.upper()}"
        for name in Settings.model_fields
        if f"`RELWATCH_{name.upper()}`" not in README
    ]
    assert missing == []


def test_two_setup_commands_are_shown():
    assert "make demo" in README and "make test" in README


def test_every_cli_command_in_readme_exists():
    from typer.main import get_command

    from relwatch.cli import app

    root = get_command(app)
    blocks = README.split("```")[1::2]  # fenced code blocks
    for line in (ln for block in blocks for ln in block.splitlines()):
        line = line.strip().lstrip("$ ")
        if not line.startswith("relwatch "):
            continue
        words = [w for w in line.split()[1:] if not w.startswith("-")]
        if not words:
            continue
        command = root.commands.get(words[0])  # type: ignore[attr-defined]
        assert command is not None, f"README names unknown command: {line}"
