"""A small client for the Dapr Jobs API over a sidecar's HTTP port, with errors in plain words.

Shared by the job-scheduler app, the workbook's helpers, the notebooks and the tests.
"""

from jobs_client.http import PLAIN_WORDS, DaprError, JobsClient, job_body, job_path, rfc3339

__all__ = ["PLAIN_WORDS", "DaprError", "JobsClient", "job_body", "job_path", "rfc3339"]
