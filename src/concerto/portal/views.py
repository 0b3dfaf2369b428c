import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from concerto.access import audit
from concerto.access.models import AuditAction
from concerto.core.errors import InvalidInput
from concerto.portal import actions, auth, selectors
from concerto.portal.auth import PatientRequest, patient_required
from concerto.portal.forms import SelfReferralForm, SignInForm
from concerto.referrals import actions as referrals


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.request_sign_in_link(
            nhs_number=form.cleaned_data["nhs_number"],
            date_of_birth=form.cleaned_data["date_of_birth"],
            link_for=lambda token: request.build_absolute_uri(reverse("portal:link", args=[token])),
        )
        # The same answer whether or not the details matched: the page must not reveal who is registered.
        return render(request, "portal/link_sent.html")
    return render(request, "portal/sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
def use_link(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: link scanners in email and messaging apps fetch links, and must not use them up.
    if request.method == "GET":
        if not actions.link_is_usable(token):
            return render(request, "portal/link_expired.html", status=410)
        return render(request, "portal/use_link.html")
    patient = actions.sign_in_with_link(token=token)
    if patient is None:
        return render(request, "portal/link_expired.html", status=410)
    auth.sign_in(request, patient)
    return redirect("portal:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth.sign_out(request)
    return render(request, "portal/signed_out.html")


@patient_required
def home(request: PatientRequest) -> HttpResponse:
    audit.record_by_patient(patient=request.patient, action=AuditAction.VIEW, what="portal_home")
    return render(request, "portal/home.html", {"patient": request.patient})


@patient_required
def referral_list(request: PatientRequest) -> HttpResponse:
    return render(request, "portal/referrals.html", {"referrals": selectors.my_referrals(request.patient)})


@patient_required
def referral_detail(request: PatientRequest, referral_id: int) -> HttpResponse:
    referral, history, contacts = selectors.my_referral(request.patient, referral_id)
    return render(request, "portal/referral.html", {"referral": referral, "history": history, "contacts": contacts})


@patient_required
@require_http_methods(["GET", "POST"])
def self_refer(request: PatientRequest) -> HttpResponse:
    destinations = referrals.self_referral_destinations(request.patient)
    form = SelfReferralForm(
        request.POST or None, destinations=destinations, initial={"idempotency_key": uuid.uuid4().hex}
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = referrals.self_refer(
                patient=request.patient,
                destination=form.cleaned_data["destination"],
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("portal:referral", referral_id=referral.pk)
    return render(request, "portal/self_refer.html", {"form": form, "destinations": destinations})
