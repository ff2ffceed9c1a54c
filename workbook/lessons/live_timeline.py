"""Notebook 03's live view: choose a schedule, dueTime, repeats and ttl, schedule the job, and
watch its triggers land on a plot as job_service receives them.

    from workbook.lessons.live_timeline import trigger_explorer
    trigger_explorer(wb)

In JupyterLab (a kernel started by a Jupyter server) it shows ipywidgets controls and a plot
that a background thread redraws as triggers arrive. Executed headless (nbclient, nbval, CI)
there is nobody to press the button, so it schedules the preset jobs itself, waits until the
scheduler has deleted them, and draws the static timeline of what really arrived.
"""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt

from jobs_client import DaprError, job_body
from workbook.lessons.plots import trigger_timeline
from workbook.runtime.waiting import wait_until

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Choice:
    """What the learner picked; empty strings / 0 mean "leave the field out"."""

    schedule: str = "@every 1s"
    due_time: str = "1s"
    repeats: int = 3
    ttl: str = ""

    def fields(self) -> dict:
        return {
            "schedule": self.schedule.strip() or None,
            "due_time": self.due_time.strip() or None,
            "repeats": self.repeats or None,
            "ttl": self.ttl.strip() or None,
        }

    def label(self) -> str:
        parts = [f"{key}={value}" for key, value in job_body(**self.fields()).items()]
        return ", ".join(parts)


PRESETS = (
    Choice("@every 1s", "1s", 3, ""),
    Choice("@every 500ms", "", 0, "2200ms"),
    Choice("*/2 * * * * *", "", 2, ""),
)


def running_in_jupyter_server() -> bool:
    """True in a kernel a Jupyter server started for a notebook (JupyterLab, Notebook 7):
    jupyter_server sets JPY_SESSION_NAME; nbclient and nbval do not."""
    return bool(os.environ.get("JPY_SESSION_NAME"))


def schedule_choice(wb, choice: Choice, prefix: str = "explore") -> tuple[str, float]:
    """Schedule one job for `choice` on job_service's sidecar; its name and when it was sent."""
    name = wb.name(prefix)
    sent = time.time()
    wb.jobs.schedule(name, data={"droid": "R2-D2", "task": "Explore"}, **choice.fields())
    return name, sent


def static_timeline(wb, choices=PRESETS, timeout: float = 15):
    """Schedule every choice at once, wait until the scheduler has deleted each (they all end
    by repeats or ttl), and draw what arrived. Returns the figure and the arrivals."""
    t0 = time.time()
    names = {choice.label(): schedule_choice(wb, choice)[0] for choice in choices}
    for name in names.values():
        wait_until(lambda n=name: not wb.jobs.exists(n), timeout=timeout, what=f"{name} to end")
    arrived = {label: wb.received(name) for label, name in names.items()}
    fig = trigger_timeline(arrived, t0=t0, title="Triggers of the preset jobs (a real run)")
    return fig, arrived


def _png(wb, name: str, sent: float, label: str) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 2.4))
    trigger_timeline({label: wb.received(name)}, t0=sent, ax=ax, title="live: " + name)
    ax.set_xlim(left=-0.2, right=max(5.0, ax.get_xlim()[1]))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def _watch(wb, name: str, sent: float, label: str, seconds: float, image, status) -> None:
    """Redraw while triggers arrive, until the job is gone or `seconds` have passed; then
    delete it (a job with neither repeats nor ttl would run for ever)."""
    seen = -1
    deadline = sent + seconds
    while True:
        got = len(wb.received(name))
        alive = wb.jobs.exists(name)
        if got != seen:
            image.value, seen = _png(wb, name, sent, label), got
        status.value = (
            f"{got} trigger(s) after {time.time() - sent:.1f} s; "
            f"{'still scheduled' if alive else 'deleted by the scheduler'}"
        )
        if not alive or time.time() > deadline:
            break
        time.sleep(POLL_SECONDS)  # a redraw rate, not a wait for something to happen
    if alive:
        wb.jobs.delete(name)
        status.value += f"; stopped watching after {seconds:.0f} s and deleted it"


def _controls(wb):
    import ipywidgets as widgets

    schedule = widgets.Text(value="@every 1s", description="schedule")
    due_time = widgets.Text(value="1s", description="dueTime")
    repeats = widgets.BoundedIntText(value=3, min=0, max=50, description="repeats (0: none)")
    ttl = widgets.Text(value="", description="ttl")
    watch = widgets.FloatSlider(value=8, min=2, max=30, step=1, description="watch (s)")
    button = widgets.Button(description="Schedule it", button_style="primary")
    status = widgets.Label(value="choose the fields, then press 'Schedule it'")
    image = widgets.Image(format="png")

    def on_click(_):
        choice = Choice(schedule.value, due_time.value, repeats.value, ttl.value)
        try:
            name, sent = schedule_choice(wb, choice)
        except DaprError as error:
            status.value = f"refused: {error}"
            return
        status.value = f"scheduled {name}: {choice.label()}"
        threading.Thread(
            target=_watch,
            args=(wb, name, sent, choice.label(), watch.value, image, status),
            daemon=True,
        ).start()

    button.on_click(on_click)
    fields = widgets.HBox([widgets.VBox([schedule, due_time]), widgets.VBox([repeats, ttl])])
    return widgets.VBox([fields, widgets.HBox([watch, button]), status, image])


def trigger_explorer(wb, *, live: bool | None = None):
    """The controls in JupyterLab; headless, the static timeline of the presets."""
    from IPython.display import display

    if live if live is not None else running_in_jupyter_server():
        display(_controls(wb))
        return None
    _, arrived = static_timeline(wb)  # the inline backend shows the figure below the cell
    print(
        "Executed headless, so no controls: the preset jobs were scheduled and drawn instead.\n"
        + "\n".join(f"  {label}: {len(got)} trigger(s)" for label, got in arrived.items())
    )
    return None
