"""The README's first screen is where a newcomer starts: it must name every demo account that
`voucher demo` makes, by role, with the password that works, and say how to change the port."""
from __future__ import annotations

import tomllib
from pathlib import Path

from merchants.demo import CASHIER_PASSWORD, DEMO_MERCHANTS, OWNER_PASSWORD
from voucher_app.demo import DEMO_STAFF

ROOT = Path(__file__).resolve().parents[2]


def first_screen() -> str:
    """The README up to the command reference: what a newcomer reads before anything else."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[:text.index("## The `voucher` command")]


def test_every_demo_account_is_listed_with_its_password():
    screen = first_screen()
    for username, password, *_ in DEMO_STAFF:
        assert f"`{username}` / `{password}`" in screen
    assert f"`shop1` / `{OWNER_PASSWORD}`" in screen and f"`shop{len(DEMO_MERCHANTS)}`" in screen
    assert f"`cashier1` / `{CASHIER_PASSWORD}`" in screen and f"`cashier{len(DEMO_MERCHANTS)}`" in screen
    assert "/dev/outbox" in screen and "/staff/login" in screen and "/login" in screen


def test_the_port_can_be_changed_as_the_readme_says():
    assert "make run PORT=" in first_screen()
    makefile = (ROOT / "Makefile").read_text()
    assert "PORT   ?= 5000" in makefile and "--port $(PORT)" in makefile


def test_the_licence_is_an_spdx_expression_with_its_file():
    """A table such as {text = "Apache-2.0"} makes setuptools print a deprecation warning on every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert all((ROOT / name).is_file() for name in project["license-files"])
