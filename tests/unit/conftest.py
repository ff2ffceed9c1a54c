"""tests/unit runs without Dapr: a unit test that reaches for the runtime fails at once, saying
so, even on a machine where Dapr is installed (`make test-unit` also runs them with an empty
HOME, no DAPR_HOME and no Dapr or Go on PATH, as a machine without Dapr would)."""

from __future__ import annotations

import sys

import pytest

from workbook import config

# jsonschema (under nbformat, which one unit test uses to build notebooks) compiles a grammar
# for its optional IRI format checks on import: about 2 s of CPU that no unit test needs (no
# unit test validates an IRI). Without the module jsonschema leaves those formats unchecked.
sys.modules.setdefault("rfc3987_syntax", None)

NO_RUNTIME = "tests/unit needs no Dapr runtime: a test that uses {what} belongs in tests/runtime"


@pytest.fixture(scope="session")
def scheduler():
    """Replaces the session scheduler of tests/conftest.py (and so job_service, its sidecar)."""
    pytest.fail(NO_RUNTIME.format(what="the scheduler or a sidecar"), pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def no_dapr_binaries():
    """No unit test starts daprd, the scheduler or placement: finding one is an error."""

    def refuse(name: str):
        raise AssertionError(NO_RUNTIME.format(what=f"the Dapr binary {name!r}"))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "dapr_binary", refuse)
        yield
