"""A real server (`concerto runserver`) in a subprocess on its own SQLite database, loaded with a
small demo ICB, and Playwright driving Debian's Chromium against it over real HTTP."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-data")
    env = {
        **os.environ,
        "CONCERTO_DATA_DIR": str(data),
        "DEBUG": "false",
        "STATIC_MANIFEST": "false",
        "SECRET_KEY": "functional-test-secret",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("DATABASE_URL", None)
    concerto = [sys.executable, "-m", "concerto.manage"]
    subprocess.run([*concerto, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run([*concerto, "demo", "--patients", "4000", "-v", "0"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    log = data / "server.log"
    log_file = log.open("wb")
    server = subprocess.Popen(
        [*concerto, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # readiness poll, bounded: the server answers or the test set-up fails
        try:
            urllib.request.urlopen(f"{url}/login/", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log_file.close()
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)
    try:
        yield {"url": url, "db": data / "concerto.sqlite3", "env": env}
    finally:
        server.terminate()
        server.wait(timeout=10)
        log_file.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def query(db: Path, sql: str, *params):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def screenshot(page, name: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
