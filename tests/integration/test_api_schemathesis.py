"""Schemathesis against the JSON API's own OpenAPI document: generated requests (valid and not)
never make the server fail. Kept small (a few examples per operation) to stay fast."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from concerto.api.actions import create_api_client

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def system_key(universe):
    # Keep the test's transaction open across requests, as Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield create_api_client(name="Fuzzer", organisation=universe.practice_n1, role="gp", by=None).key
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, system_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {system_key}"}, checks=[not_a_server_error])
