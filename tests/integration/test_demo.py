"""`concerto demo` at its default size, from an empty data folder, in a subprocess: every demo
builder runs through the real actions, so a rule change that breaks the demo fails here first."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_loads_everything_and_prints_the_log_ins(tmp_path):
    env = {**os.environ, "CONCERTO_DATA_DIR": str(tmp_path), "DEBUG": "true"}
    env.pop("DATABASE_URL", None)  # the demo's own SQLite database, whichever pass this is
    concerto = [sys.executable, "-m", "concerto.manage"]
    subprocess.run([*concerto, "migrate", "-v", "0"], env=env, check=True)
    first = subprocess.run([*concerto, "demo"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-3000:]
    for expected in (
        "referrals for the demo",
        "questionnaire responses for the demo",
        "care and crisis plans for the demo",
        "community directory services for the demo",
        "Patient portal: open http://127.0.0.1:8000/my/sign-in/",
        "concerto-demo",
    ):
        assert expected in first.stdout, expected
    again = subprocess.run([*concerto, "demo"], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "Demo ICB already loaded" in again.stdout
    assert "referrals for the demo" not in again.stdout  # a second run adds nothing
