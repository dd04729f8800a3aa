"""The Celery app: tasks on their queues (settings), and a beat that cannot die silently.

``celery -A config worker -B`` runs beat in a child process of the worker. Left alone, a beat
that cannot open its schedule file logs a traceback and exits while the worker reports ready,
and no deadline is enforced again. :class:`BeatGuard` makes the schedule's folder and opens the
file before the worker starts, and stops the worker (exit code 1) when it cannot, or when beat
exits later: the worker fails loudly and its supervisor restarts it.
"""

import logging
import os
import shelve
import threading
from pathlib import Path

from celery import Celery, bootsteps, signals
from celery.platforms import EX_FAILURE
from celery.worker import state as worker_state

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("disputes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    """The embedded file-system broker needs its folders before the first message."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@signals.beat_init.connect
def _sweep_when_beat_starts(sender, **kwargs):
    """Sweep as beat starts, not one interval later: what fell due while it was down is
    applied at once, and ``/healthz`` sees a recent sweep soon after a restart."""
    interval = sender.app.conf.beat_schedule["enforce-deadlines"]["schedule"]
    sender.app.send_task("core.tasks.enforce_deadlines", expires=interval)


def prepare_beat_schedule(filename: str) -> None:
    """Make the folder of beat's schedule file and open the file as beat will; raise why not."""
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    with shelve.open(filename):
        pass


class BeatGuard(bootsteps.StartStopStep):
    """With ``-B``: beat can start or the worker does not; when beat exits, so does the worker."""

    label = "Beat guard"
    requires = ("celery.worker.components:Beat",)
    check_every = 2.0  # seconds

    def __init__(self, w, beat=False, **kwargs):
        self.enabled = bool(beat)
        self.stopped = threading.Event()
        super().__init__(w, **kwargs)

    def create(self, w):
        filename = w.schedule_filename
        try:
            prepare_beat_schedule(filename)
        except Exception as error:
            logger.critical(
                "beat cannot start: its schedule file %s cannot be written (%s: %s); "
                "the worker stops",
                filename,
                type(error).__name__,
                error,
            )
            raise SystemExit(EX_FAILURE) from error
        return self

    def start(self, w):
        # A thread of its own: the worker's timer does not run while it waits for the broker.
        threading.Thread(target=self.watch, args=(w,), name="Beat guard", daemon=True).start()

    def stop(self, w):
        self.stopped.set()

    def watch(self, w):
        while not self.stopped.wait(self.check_every):
            beat = w.beat
            if beat is None or beat.is_alive():
                continue
            stopping = (worker_state.should_stop, worker_state.should_terminate) != (None, None)
            if not (self.stopped.is_set() or stopping):
                logger.critical(
                    "beat exited (exit code %s): no deadline would be enforced; the worker stops",
                    getattr(beat, "exitcode", None),
                )
                worker_state.should_stop = EX_FAILURE
            return


app.steps["worker"].add(BeatGuard)
