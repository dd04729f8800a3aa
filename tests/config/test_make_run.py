"""``make run``: links in e-mails point at the server it starts.

The Makefile runs here with stand-ins for the virtualenv's ``python`` and ``celery`` that print
the address they serve and the SITE_URL they were given, so nothing is installed or served.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each prints its line; the server waits (a little) for the worker started in the background
# to print its own before it returns and make stops the worker.
STAND_IN = """#!/bin/sh
echo "$(basename "$0") $* SITE_URL=$SITE_URL"
here=$(dirname "$0")
[ "$(basename "$0")" = celery ] && touch "$here/worker-started"
case "$*" in *runserver*)
  for _ in $(seq 50); do [ -e "$here/worker-started" ] && break; sleep 0.1; done;;
esac
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make_run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """What ``make run`` started, each line "python|celery <arguments> SITE_URL=<its value>"."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python", "celery"):
        (bin_dir / name).write_text(STAND_IN)
        (bin_dir / name).chmod(0o755)
    # Already "installed": the stand-in folder is newer than the project's requirements.
    (tmp_path / "pyproject.toml").touch()
    (bin_dir / ".installed").touch()
    environment = {key: value for key, value in os.environ.items() if key != "SITE_URL"}

    result = subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "run", f"BIN={bin_dir}"]
        + list(args),
        cwd=tmp_path,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith(("python", "celery"))]


def site_urls(started: list[str]) -> set[str]:
    return {line.rsplit("SITE_URL=", 1)[1] for line in started}


class TestMakeRun:
    def test_points_links_at_the_port_it_serves(self, tmp_path):
        started = make_run(tmp_path, "PORT=8101")

        assert "python manage.py runserver 127.0.0.1:8101 SITE_URL=http://127.0.0.1:8101" in started
        assert any(line.startswith("celery -A config worker") for line in started)
        assert site_urls(started) == {"http://127.0.0.1:8101"}

    def test_keeps_a_site_url_given_on_the_command_line(self, tmp_path):
        started = make_run(tmp_path, "PORT=8101", "SITE_URL=https://disputes.example.com")

        assert site_urls(started) == {"https://disputes.example.com"}

    def test_keeps_a_site_url_from_the_environment(self, tmp_path):
        started = make_run(tmp_path, "PORT=8101", env={"SITE_URL": "http://192.0.2.7:8101"})

        assert site_urls(started) == {"http://192.0.2.7:8101"}
