"""Who the portal's patient is. A portal session is bound to one patient, separate from staff log-in:
the patient is never a Django user, and a staff log-in in the same browser ends the portal session.

`sign_in(request, patient)` is the one hook every way of signing in ends with: today a one-time link
(`actions.sign_in_with_link`); with NHS login, the OpenID Connect callback verifies the ID token and
calls it with the patient matched on the `nhs_number` claim (docs/portal.md)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from concerto.people.models import Patient

SESSION_KEY = "concerto_portal_patient_id"


class PatientRequest(HttpRequest):
    """For type checking: a request in a view behind `patient_required`."""

    patient: Patient


def sign_in(request: HttpRequest, patient: Patient) -> None:
    logout(request)  # flushes the session: no staff identity (or earlier patient) survives
    rotate_token(request)  # a CSRF token planted before sign-in is no good after it
    request.session[SESSION_KEY] = patient.pk
    request.session.set_expiry(settings.PORTAL_SESSION_SECONDS)


def sign_out(request: HttpRequest) -> None:
    request.session.flush()


def current_patient(request: HttpRequest) -> Patient | None:
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return None  # a staff log-in is never also a patient
    patient_id = request.session.get(SESSION_KEY)
    if patient_id is None:
        return None
    return Patient.objects.filter(pk=patient_id, date_of_death__isnull=True).first()


def patient_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        patient = current_patient(request)
        if patient is None:
            return redirect("portal:sign-in")
        request.patient = patient  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        # Portal pages may be opened on shared computers: nothing of them is kept after signing out.
        add_never_cache_headers(response)
        return response

    return wrapper
