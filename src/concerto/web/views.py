from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from concerto.access.decorators import membership_required, patient_view, require_permission
from concerto.access.middleware import SESSION_KEY, ActingRequest, MemberRequest
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.access.selectors import memberships_for
from concerto.directory import selectors as directory
from concerto.outcomes import selectors as outcomes
from concerto.people import selectors as people
from concerto.people.models import Patient
from concerto.records import selectors as records
from concerto.referrals import selectors as referrals
from concerto.register import selectors as register
from concerto.register.models import Response
from concerto.web.forms import PatientSearchForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def _safe_next(request: ActingRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def choose_membership(request: ActingRequest) -> HttpResponse:
    memberships = memberships_for(request.user)
    if request.method == "POST":
        chosen = next((m for m in memberships if str(m.pk) == request.POST.get("membership")), None)
        if chosen is not None:
            request.session.cycle_key()  # a new role is a new session, like removing a smartcard
            request.session[SESSION_KEY] = chosen.pk
            return redirect(_safe_next(request, "home"))
        error = "Choose the role you are working in today."
    else:
        error = None
        if len(memberships) == 1 and request.membership is None:
            request.session[SESSION_KEY] = memberships[0].pk
            return redirect(_safe_next(request, "home"))
    return render(
        request,
        "web/choose_membership.html",
        {"memberships": memberships, "error": error, "next": _safe_next(request, "")},
    )


@membership_required
def home(request: MemberRequest) -> HttpResponse:
    role = request.membership.role_definition
    return render(
        request,
        "web/home.html",
        {
            "role": role,
            "can_search": has_permission(request.membership, Permission.PATIENT_SEARCH),
            "can_view_aggregates": has_permission(request.membership, Permission.AGGREGATES_VIEW),
            "can_admin": has_permission(request.membership, Permission.REFERENCE_DATA_ADMIN),
            "search_form": PatientSearchForm(),
        },
    )


@require_permission(Permission.PATIENT_SEARCH)
@require_http_methods(["GET", "POST"])
def patient_search(request: MemberRequest) -> HttpResponse:
    # POST, so NHS numbers and names never travel in URLs (server logs, browser history).
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    results: list[Patient] | None = None
    if form.is_bound and form.is_valid():
        results = people.search_patients(
            by=request.membership,
            text=form.cleaned_data["q"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
    return render(request, "web/patient_search.html", {"form": form, "results": results, "limit": people.SEARCH_LIMIT})


@patient_view(Permission.PATIENT_VIEW_DEMOGRAPHICS, what="patient_summary")
def patient_summary(request: MemberRequest, patient: Patient) -> HttpResponse:
    by = request.membership
    context: dict = {
        "patient": patient,
        "registration": people.current_registration(patient),
        "referrals": referrals.for_patient(by=by, patient=patient),
        "care_team": referrals.care_team(by=by, patient=patient),
        "social_prescriptions": directory.for_patient(by=by, patient=patient),
    }
    context["show_clinical"] = has_permission(request.membership, Permission.PATIENT_VIEW_CLINICAL)
    if context["show_clinical"]:
        context |= {
            "events": records.recent_events(by=by, patient=patient),
            "medications": records.recent_medications(by=by, patient=patient),
            "check": register.patient_check(by=by, patient=patient),
            "can_record": has_permission(by, Permission.PATIENT_RECORD_CLINICAL),
            "response_choices": Response.choices,
            "outcomes_latest": outcomes.latest_per_questionnaire(patient, by=by),
            "outcomes_open_alerts": [a for a in outcomes.alerts_for(patient, by=by) if a.is_open],
        }
    return render(request, "web/patient_summary.html", context)
