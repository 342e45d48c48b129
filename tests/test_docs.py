"""The README stays true: it names every setting and every command."""

from click import Group

from kb.cli import main
from kb.settings import SETTINGS

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    assert [env for _, env, _, _ in SETTINGS if f"`{env}`" not in README] == []


def test_every_command_is_documented():
    commands = []
    for name, command in main.commands.items():
        if isinstance(command, Group):
            commands += [f"kb {name} {sub}" for sub in command.commands]
        else:
            commands.append(f"kb {name}")
    assert [c for c in commands if c not in README] == []


def test_the_two_commands_are_there():
    assert "make run" in README and "make test" in README
