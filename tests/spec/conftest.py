"""Spec tests: every indicator on every engine from small hand-made extracts.

One Spark session (local[1], one shuffle partition, no UI) is shared by every test that asks for
`spark`; Spark tests are marked `spark` and skip only where Java is missing outside CI."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI") == "true"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "spark" in item.keywords:
            # py4j leaves its sockets to the garbage collector: noise, not a fault of the code here.
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
        if "spark" in item.keywords and not shutil.which("java"):
            if IN_CI:
                raise pytest.UsageError("CI must run the Spark spec tests but Java is missing")
            item.add_marker(pytest.mark.skip(reason="needs Java 17 for Spark: apt-get install -y openjdk-17-jre"))


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("CONCERTO_SPARK_MASTER", "local[1]")
    from concerto.analytics import engines

    session = engines.spark_session()
    session.conf.set("spark.sql.shuffle.partitions", "1")
    return session
