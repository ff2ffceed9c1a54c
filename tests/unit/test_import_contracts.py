"""What import-linter cannot see (tests and notebooks are not packages): no module of the
project imports the tests, conftest or a notebook; and the benchmark stays a package of short
modules. The package contracts themselves are in pyproject.toml, run by `lint-imports`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbook.config import ROOT

PACKAGES = ("workbook", "jobs_client", "job_service", "job_scheduler", "bench")
SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
NOT_IMPORTABLE = {"tests", "conftest", "notebooks"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_sources_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"jobs_client/http.py", "bench/run.py", "workbook/cli.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_imports_tests_or_notebooks(path):
    assert not imported_roots(path) & NOT_IMPORTABLE


def test_the_check_sees_an_import_of_the_tests(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom tests.conftest import RUN_MARK\nimport notebooks.x\n")
    assert imported_roots(probe) & NOT_IMPORTABLE == {"tests", "notebooks"}


@pytest.mark.parametrize(
    "path", sorted((ROOT / "bench").glob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_benchmark_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= 400
