"""The Jobs API error catalogue, as data: every mistake a learner makes with the sidecar's HTTP
API, what Dapr 1.18.3 answers (measured), and what to do about it. `errors.run_case` sends a
case; notebook 05 prints the table; tests/runtime/test_error_catalogue.py asserts every row.

The cases live by what they get wrong: the job's body (error_cases_body.py) and the request
line, that is the method, the path and the name (error_cases_path.py); error_cases_model.py
holds `Case`.
"""

from __future__ import annotations

from workbook.lessons.error_cases_body import BODY_CASES
from workbook.lessons.error_cases_model import JOBS, LATER, Case
from workbook.lessons.error_cases_path import PATH_CASES

__all__ = ["CATALOGUE", "JOBS", "LATER", "Case"]

CATALOGUE: list[Case] = [*BODY_CASES, *PATH_CASES]
