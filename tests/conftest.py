"""Shared pytest set-up: environment checks for the PostgreSQL and browser tests, and the fixture
universe (tests/fixtures.py)."""

import os
import shutil

import pytest

from tests.fixtures import *  # noqa: F403  (the universe and its helpers are fixtures)

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/concerto"
                )
            )
        if "functional" in item.keywords and not shutil.which(CHROMIUM):
            if IN_CI:
                raise pytest.UsageError(f"CI must run the browser tests but {CHROMIUM} is missing")
            item.add_marker(
                pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}: apt-get install -y chromium (CI installs it)")
            )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests create many users. Production keeps Argon2 (settings.py).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fake_notify():
    """A verified fake of GOV.UK Notify on a loopback port (tests/fakes/notify.py)."""
    from tests.fakes.notify import FakeNotify

    with FakeNotify() as fake:
        yield fake


@pytest.fixture(scope="session")
def synthetic_extract(tmp_path_factory):
    """A 3,000-patient synthetic extract folder (Parquet, the extract schema), made once."""
    import datetime as dt

    from concerto.synthetic.generator import SynthConfig, generate, write_parquet

    out = tmp_path_factory.mktemp("extract")
    write_parquet(generate(SynthConfig(patients=3_000, as_of=dt.date(2026, 11, 1))), out)
    return out
