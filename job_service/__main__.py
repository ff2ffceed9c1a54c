"""Run job-service: `python -m job_service` (APP_PORT, default 6200)."""

import os

import uvicorn


def main() -> None:
    port = int(os.environ.get("APP_PORT", "6200"))
    # Only warnings from uvicorn: the droid lines are the output that matters.
    uvicorn.run("job_service.app:app", host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
