"""Help screens at 80 columns: nothing cut, the command list as prose, defaults as given."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

import langgap.cli.compare  # noqa: F401  (each module registers its command)
import langgap.cli.embed  # noqa: F401
import langgap.cli.measure  # noqa: F401
import langgap.cli.merge  # noqa: F401
import langgap.cli.mine  # noqa: F401
import langgap.cli.report  # noqa: F401
import langgap.cli.table  # noqa: F401
import langgap.cli.tokens  # noqa: F401
import langgap.cli.train  # noqa: F401
import langgap.cli.tune  # noqa: F401
from langgap.cli import app

COMMANDS = ("measure", "train", "mine", "embed", "compare", "report", "table", "tokens", "merge", "tune")


def _help(args: list[str], columns: int) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_name_whole_at_80_columns(command):
    text = _help([command], 80)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(re.findall(r"--[\w-]+", text))
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in click_command.params:
        for name in [*param.opts, *param.secondary_opts]:
            assert not name.startswith("--") or name in words, (command, name)


def test_long_defaults_fold_instead_of_being_cut():
    text = _help(["measure"], 80)
    joined = "".join(line.strip("│ ") for line in text.splitlines())
    assert "intfloat/multilingual-e5-small" in joined


def test_command_list_gives_each_description_as_one_line_of_prose():
    lines = [line for line in _help([], 200).splitlines() if line.startswith("│ ")]
    for command in COMMANDS:
        (row,) = [i for i, line in enumerate(lines) if line.startswith(f"│ {command} ")]
        # one row each: the next line starts the next command, not the rest of a sentence
        assert row + 1 == len(lines) or re.match(r"│ [a-z]+ ", lines[row + 1]), lines[row : row + 2]


def test_defaults_given_as_text_read_like_the_others():
    text = _help(["train"], 120)
    assert "[default: infonce]" in text and "[default: (" not in text
    assert "[default: 4]" in _help(["mine"], 120)
