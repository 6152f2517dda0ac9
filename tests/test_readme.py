"""README.md stays true: its configuration table and its first commands."""

from __future__ import annotations

import re
from pathlib import Path

from linesman import conf

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _table_variables() -> list[str]:
    rows = [line for line in _section("Configuration").splitlines() if line.startswith("| `")]
    return [re.match(r"\| `([A-Z_]+)`", row).group(1) for row in rows]


def _shell_blocks() -> list[str]:
    return re.findall(r"^```(?:sh|bash|shell|console)\n(.*?)^```", README, re.M | re.S)


def test_configuration_table_lists_every_variable():
    documented = _table_variables()
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    names = [name for name, _default, _meaning in conf.VARIABLES]
    assert set(names) <= set(documented), set(names) - set(documented)
    assert set(documented) <= set(names), set(documented) - set(names)
    assert documented == names, "README's table is in conf.VARIABLES' order"


def test_variables_table_covers_what_conf_reads():
    """Every variable conf.py reads is declared in conf.VARIABLES (the table's source)."""
    source = Path(conf.__file__).read_text()
    read = set(re.findall(r'"((?:LINESMAN|DATABASE|REDIS)_[A-Z_]+)"', source))
    assert read, "no variables found in conf.py"
    declared = {name for name, _default, _meaning in conf.VARIABLES}
    assert read <= declared, read - declared


def test_table_defaults_match_conf():
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `([A-Z_]+)` \| ([^|]*) \|", _section("Configuration"), re.M)
    }
    for name, default, _meaning in conf.VARIABLES:
        assert rows[name].replace("`", "").strip() == default.replace("`", ""), name


def test_first_shell_block_installs_and_serves():
    first = _shell_blocks()[0].strip()
    assert first.count("\n") == 0, "the install-and-serve command is one line"
    assert "python3 -m venv .venv" in first
    assert "pip install -e ." in first
    assert first.endswith("linesman serve")


def test_second_shell_block_runs_the_tests():
    second = _shell_blocks()[1].strip()
    assert second.count("\n") == 0, "the test command is one line"
    assert "pip install" in second and "[test]" in second
    assert second.endswith("pytest -n auto"), "one test process per core (pytest-xdist)"


def test_ci_runs_the_readme_test_command():
    second = _shell_blocks()[1].strip()
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert second in ci.splitlines()
