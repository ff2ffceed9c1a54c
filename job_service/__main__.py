"""Run job-service: `python -m job_service` (APP_PORT, default 6200)."""

import os
import sys

import uvicorn


def main() -> None:
    port = int(os.environ.get("APP_PORT", "6200"))
    # A droid name the terminal's encoding cannot show is escaped, never a crash (a 500).
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="backslashreplace")
    # Only warnings from uvicorn: the droid lines are the output that matters.
    uvicorn.run("job_service.app:app", host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
