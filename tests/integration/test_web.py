import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from concerto.access.models import AuditAction, AuditEvent, Membership
from tests.fixtures import PASSWORD, client_as


def _patient_patterns() -> dict[str, list[str]]:
    """Every named URL that takes a patient_id (and its other arguments), found from the URL
    configuration itself, so a new patient page is covered without anyone remembering to add it."""
    found: dict[str, list[str]] = {}

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and "patient_id" in p.pattern.converters and p.name:
                found[namespace + p.name] = [k for k in p.pattern.converters if k != "patient_id"]

    walk(get_resolver().url_patterns)
    return found


def patient_url_names() -> list[str]:
    return list(_patient_patterns())


def patient_url(name: str, public_id) -> str:
    """The URL `name` for this patient, with 1 for any other (integer) argument."""
    others = _patient_patterns()[name]
    return reverse(name, kwargs={"patient_id": public_id} | dict.fromkeys(others, 1))


def test_there_are_patient_urls_to_check():
    assert "patient-summary" in patient_url_names()


def test_log_in_then_choose_a_membership(universe):
    gp = universe.m("gp_n1")
    # A second membership means the user must choose.
    from concerto.access.actions import add_membership

    add_membership(user=gp.user, organisation=universe.pcn_north, role="pcn_mh_practitioner", by=None)
    client = Client()
    response = client.post(reverse("login"), {"username": "gp_n1", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("choose-membership")
    page = client.get(reverse("choose-membership"))
    assert b"Which role are you working in?" in page.content
    assert b"GP, North One Surgery" in page.content and b"PCN mental health practitioner, North PCN" in page.content
    response = client.post(reverse("choose-membership"), {"membership": gp.pk})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert b"GP, North One Surgery" in home.content  # the header says who they are acting as


def test_wrong_password_is_refused_with_a_clear_message(universe):
    response = Client().post(reverse("login"), {"username": "gp_n1", "password": "wrong"})
    assert response.status_code == 200
    assert b"Your username or password is not right" in response.content


def test_cannot_choose_someone_elses_membership(universe):
    client = Client()
    client.force_login(universe.m("gp_n1").user)
    response = client.post(reverse("choose-membership"), {"membership": universe.m("gp_s1").pk})
    assert response.status_code == 200 and b"Choose the role" in response.content
    assert client.get(reverse("home")).status_code == 302  # still no membership


def test_pages_need_log_in_and_a_membership(universe):
    assert Client().get(reverse("patient-search")).url.startswith("/login/")
    client = Client()
    client.force_login(universe.m("gp_n1").user)
    # A single membership is chosen automatically on the choose page, not silently elsewhere.
    assert client.get(reverse("patient-search")).url.startswith("/choose-membership/")


def test_search_finds_only_patients_the_member_may_see(universe):
    gp = client_as(universe.m("gp_n1"))
    found = gp.post(reverse("patient-search"), {"q": "Ashworth"})
    assert b"ASHWORTH, Alice" in found.content
    for other in ("Brennan", "Chowdhury"):
        response = gp.post(reverse("patient-search"), {"q": other})
        assert b"0 patients found" in response.content
    pcn = client_as(universe.m("mhp_north"))
    assert b"BRENNAN, Bob" in pcn.post(reverse("patient-search"), {"q": "bob"}).content


def test_search_by_nhs_number_and_date_of_birth(universe):
    gp = client_as(universe.m("gp_n1"))
    number = universe.alice.formatted_nhs_number
    assert b"ASHWORTH, Alice" in gp.post(reverse("patient-search"), {"q": number}).content
    by_dob = gp.post(reverse("patient-search"), {"dob_day": "17", "dob_month": "5", "dob_year": "1980"})
    assert b"ASHWORTH, Alice" in by_dob.content
    wrong_dob = gp.post(
        reverse("patient-search"), {"q": "Alice", "dob_day": "18", "dob_month": "5", "dob_year": "1980"}
    )
    assert b"0 patients found" in wrong_dob.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "999 000 0001"}, b"check digit does not match"),
        ({"q": "12345"}, b"An NHS number has 10 digits"),
        ({"q": "", "dob_day": "31", "dob_month": "2", "dob_year": "1980"}, b"must be a real date"),
        ({"q": "x", "dob_day": "3"}, b"must include a day, month and year"),
    ],
)
def test_search_explains_bad_input(universe, params, message):
    response = client_as(universe.m("gp_n1")).post(reverse("patient-search"), params)
    assert message in response.content
    assert b"There is a problem" in response.content


def test_each_search_writes_one_audit_record_listing_who_was_shown(universe):
    gp = universe.m("gp_n1")
    before = AuditEvent.objects.count()
    client_as(gp).post(reverse("patient-search"), {"q": "Ashworth"})
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.what, event.membership_id) == (AuditAction.SEARCH, "patient_search", gp.pk)
    assert event.detail["patient_ids"] == [universe.alice.pk]


def test_roles_without_search_are_refused(universe):
    assert client_as(universe.m("analyst")).get(reverse("patient-search")).status_code == 403


def test_patient_summary_shows_the_patient_and_audits_one_read(universe):
    gp = universe.m("gp_n1")
    before = AuditEvent.objects.count()
    response = client_as(gp).get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert response.status_code == 200
    assert b"ASHWORTH, Alice" in response.content
    assert universe.alice.formatted_nhs_number.encode() in response.content
    assert b"North One Surgery" in response.content
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.what, event.patient_id, event.membership_id) == (
        AuditAction.VIEW,
        "patient_summary",
        universe.alice.pk,
        gp.pk,
    )


def test_demographic_roles_do_not_see_the_clinical_record(universe):
    response = client_as(universe.m("admin_n1")).get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert response.status_code == 200
    assert b"Your role does not include the clinical record" in response.content
    assert b"Recent coded events" not in response.content


@pytest.mark.parametrize("url_name", patient_url_names())
@pytest.mark.parametrize("member", ["gp_s1", "admin_n2", "clinician_cmht", "vcse_worker", "analyst", "sysadmin"])
def test_every_patient_url_answers_404_without_a_relationship_and_audits_the_attempt(universe, url_name, member):
    membership = universe.m(member)
    client = client_as(membership)
    before = AuditEvent.objects.count()
    response = client.get(patient_url(url_name, universe.alice.public_id))
    assert response.status_code == 404
    denied = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == before + 1
    assert (denied.action, denied.patient_id, denied.membership_id) == (
        AuditAction.DENIED,
        universe.alice.pk,
        membership.pk,
    )
    # A patient that does not exist looks exactly the same.
    missing = client.get(patient_url(url_name, uuid.uuid4()))
    assert missing.status_code == 404 and missing.content == response.content


def test_admin_is_for_system_administrators_only(universe):
    admin = client_as(universe.m("sysadmin"))
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/admin/organisations/organisation/").status_code == 200
    assert admin.get("/admin/core/codelistversion/").status_code == 200
    # Memberships and users are read-only: they change through audited actions only.
    assert admin.get("/admin/access/membership/").status_code == 200
    assert admin.get("/admin/access/membership/add/").status_code == 403
    assert admin.get("/admin/people/user/add/").status_code == 403
    assert client_as(universe.m("gp_n1")).get("/admin/", follow=True).status_code == 403
    assert client_as(universe.m("gp_n1")).get("/admin/organisations/organisation/", follow=True).status_code == 403
    anonymous = Client().get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/login/")


def test_an_inactive_membership_is_dropped_from_the_session(universe):
    gp = universe.m("gp_n1")
    client = client_as(gp)
    assert client.get(reverse("home")).status_code == 200
    Membership.objects.filter(pk=gp.pk).update(is_active=False)
    assert client.get(reverse("home")).url.startswith("/choose-membership/")
    response = client.get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert response.status_code == 302


def test_login_redirect_keeps_the_whole_path():
    response = Client().get(reverse("patient-search") + "?a=1&b=2")
    assert response.url == "/login/?next=/patients/%3Fa%3D1%26b%3D2"


def test_search_is_posted_so_nothing_identifying_reaches_a_url(universe):
    page = client_as(universe.m("gp_n1")).get(reverse("home"))
    assert b'action="/patients/" method="post"' in page.content


def test_security_headers(universe):
    response = client_as(universe.m("gp_n1")).get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">'.encode() in response.content  # the inline script may run
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
