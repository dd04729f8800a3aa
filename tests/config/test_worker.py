"""A worker with beat (``-B``) fails loudly when beat cannot run, never reports ready without it.

The worker here talks to a broker nobody listens on: what is tested happens before and beside
its connection to the broker, so no server is needed.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.kit import CLOSED_BROKER

ROOT = Path(__file__).resolve().parents[2]


def start_worker(var_dir: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "VAR_DIR": str(var_dir), "CELERY_BROKER_URL": CLOSED_BROKER}
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo"]
            + ["--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(condition, *, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    return None


def exit_code(worker: subprocess.Popen, *, seconds: float) -> int | None:
    """The worker's exit code, or None when it still ran after ``seconds`` (then it is ended)."""
    try:
        return worker.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        return None


def started(worker: subprocess.Popen, log: Path) -> list[int] | None:
    """Once the worker runs (its consumer tried the broker: its signal handlers are in place),
    its children: beat's process."""
    return "consumer:" in log.read_text() and children_of(worker.pid) or None


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


class TestAWorkerWithBeat:
    def test_stops_with_an_error_when_beats_schedule_cannot_be_written(self, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        log = tmp_path / "worker.log"

        code = exit_code(start_worker(blocker / "var", log), seconds=60)

        text = log.read_text()
        assert code == 1, text
        assert "beat cannot start: its schedule file" in text
        assert "ready" not in text

    def test_makes_the_folder_of_beats_schedule_and_stops_cleanly(self, tmp_path):
        var = tmp_path / "fresh" / "var"
        log = tmp_path / "worker.log"

        worker = start_worker(var, log)
        beat = wait_for(lambda: started(worker, log), seconds=60)
        made = list(var.glob("celerybeat-schedule*"))
        os.kill(worker.pid, signal.SIGTERM)  # as a supervisor stops it
        code = exit_code(worker, seconds=30)

        assert beat and made, log.read_text()
        assert code == 0, log.read_text()

    def test_stops_with_an_error_when_beat_exits(self, tmp_path):
        log = tmp_path / "worker.log"
        worker = start_worker(tmp_path / "var", log)
        beat = wait_for(lambda: started(worker, log), seconds=60)

        if beat:
            os.kill(beat[0], signal.SIGKILL)
        code = exit_code(worker, seconds=60)

        text = log.read_text()
        assert beat, text
        assert code == 1, text
        assert "beat exited" in text
