"""The migrations describe the models the same way wherever the project lives.

A migration that wrote down a path of the machine it was made on (a storage's folder, say) would
look changed on any other machine, and ``makemigrations`` there would make a new one.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_THE_PROJECT = shutil.ignore_patterns(
    ".git", ".venv", "var", "staticfiles", "db.sqlite3*", "__pycache__", "*.egg-info", ".*_cache"
)


def test_are_clean_in_a_copy_of_the_project_elsewhere_with_other_folders(tmp_path):
    copy = tmp_path / "elsewhere" / "disputes"
    shutil.copytree(ROOT, copy, ignore=NOT_THE_PROJECT)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-files-elsewhere"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "No changes detected", result.stdout
