from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from concerto.access.decorators import patient_view, require_permission
from concerto.access.middleware import MemberRequest
from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.core.errors import ConcertoError
from concerto.organisations.models import Organisation
from concerto.people.models import Patient
from concerto.referrals import actions, selectors
from concerto.referrals.forms import ContactForm, DecisionForm, ReassignForm, ReferForm, StepForm
from concerto.referrals.models import Episode, Referral


def _detail_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.patient.public_id, referral.pk])


@patient_view(Permission.REFERRAL_MAKE, what="referral_form")
@require_http_methods(["GET", "POST"])
def refer(request: MemberRequest, patient: Patient) -> HttpResponse:
    destinations = selectors.referral_destinations()
    form = ReferForm(request.POST or None, destinations=destinations)
    if request.method == "POST" and form.is_valid():
        destination = get_object_or_404(Organisation, pk=form.cleaned_data["destination"])
        try:
            referral = actions.refer(
                patient=patient,
                destination=destination,
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                consent_confirmed=form.cleaned_data["consent_confirmed"],
                by=request.membership,
            )
        except ConcertoError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Referred to {referral.destination.name}.")
            return redirect(_detail_url(referral))
    return render(request, "referrals/refer.html", {"patient": patient, "form": form})


@patient_view(Permission.PATIENT_VIEW_DEMOGRAPHICS, what="referral")
def detail(request: MemberRequest, patient: Patient, referral_id: int) -> HttpResponse:
    referral = selectors.get_referral(by=request.membership, patient=patient, referral_id=referral_id)
    can_manage = actions.may_manage(request.membership, referral)
    episode = Episode.objects.filter(referral=referral).select_related("key_worker__user").first()
    return render(
        request,
        "referrals/detail.html",
        {
            "patient": patient,
            "referral": referral,
            "clock": selectors.clock_for(referral),
            "events": referral.events.select_related("by__user", "by__organisation"),
            "can_manage": can_manage,
            "episode": episode,
            "contacts": episode.contacts.order_by("-date") if episode else [],
            "members": selectors.team_members(referral.destination) if can_manage else [],
            "destinations": [d for d in selectors.referral_destinations() if d.pk != referral.destination_id],
            "can_decline": referral.is_open
            and (
                can_manage
                or (
                    referral.referrer is not None
                    and referral.referrer.organisation_id == request.membership.organisation_id
                )
            ),
            "can_withdraw": referral.is_open and actions.may_withdraw(request.membership, referral),
            "contact_form": ContactForm(),
            "clinical_detail": selectors.may_read_clinical_detail(request.membership, referral),
        },
    )


STEPS = {
    "assess": lambda r, f, by: actions.record_assessment(referral=r, version=f["version"], on=f["on"], by=by),
    "treat": lambda r, f, by: actions.start_treatment(referral=r, version=f["version"], on=f["on"], by=by),
    "complete": lambda r, f, by: actions.complete(referral=r, version=f["version"], note=f["note"], by=by),
    "decline": lambda r, f, by: actions.decline_by_patient(referral=r, version=f["version"], reason=f["note"], by=by),
    "withdraw": lambda r, f, by: actions.withdraw(referral=r, version=f["version"], reason=f["note"], by=by),
}


def decide(request: MemberRequest, referral: Referral) -> Referral | None:
    """Apply the triage decision posted for this referral; report problems as messages."""
    form = DecisionForm(request.POST)
    members = {m.pk: m for m in selectors.team_members(referral.destination)}
    form.fields["named_person"].choices = [("", "")] + [(pk, str(pk)) for pk in members]  # type: ignore[attr-defined]
    form.fields["destination"].choices = [("", "")] + [  # type: ignore[attr-defined]
        (d.pk, str(d.pk)) for d in selectors.referral_destinations()
    ]
    if not form.is_valid():
        messages.error(request, "Choose a decision (and for an acceptance, a named person).")
        return None
    data, by = form.cleaned_data, request.membership
    try:
        if data["decision"] == "accept":
            person: Membership | None = members.get(data["named_person"]) if data["named_person"] else None
            if person is None:
                messages.error(request, "Name the person who will own this referral.")
                return None
            return actions.accept(
                referral=referral, version=data["version"], named_person=person, rationale=data["rationale"], by=by
            )
        if data["decision"] == "redirect":
            if not data["destination"]:
                messages.error(request, "Choose where to redirect to: 'not for us' always hands over.")
                return None
            destination = get_object_or_404(Organisation, pk=data["destination"])
            return actions.redirect(
                referral=referral,
                version=data["version"],
                destination=destination,
                handover_note=data["rationale"],
                consent_confirmed=data["consent_confirmed"],
                by=by,
            )
        return actions.triage(referral=referral, version=data["version"], rationale=data["rationale"], by=by)
    except ConcertoError as exc:
        messages.error(request, str(exc))
        return None


@patient_view(Permission.PATIENT_VIEW_DEMOGRAPHICS, what="referral_update")
@require_http_methods(["POST"])
def act(request: MemberRequest, patient: Patient, referral_id: int, step: str) -> HttpResponse:
    referral = selectors.get_referral(by=request.membership, patient=patient, referral_id=referral_id)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = _detail_url(referral)
    if step == "reassign":
        reassign = ReassignForm(request.POST)
        members = {m.pk: m for m in selectors.team_members(referral.destination)}
        if not reassign.is_valid() or reassign.cleaned_data["named_person"] not in members:
            messages.error(request, "Choose someone in the team.")
            return redirect(back)
        try:
            actions.reassign(
                referral=referral,
                version=reassign.cleaned_data["version"],
                named_person=members[reassign.cleaned_data["named_person"]],
                by=request.membership,
            )
        except ConcertoError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Named person changed.")
        return redirect(back)
    if step == "decide":
        result = decide(request, referral)
        if result is not None and result.redirected_from_id == referral.pk:
            messages.success(request, f"Saved: redirected to {result.destination.name}, with your hand-over note.")
        elif result is not None:
            messages.success(request, f"Saved: {result.get_status_display().lower()} ({result.destination.name}).")
        return redirect(back)
    if step not in STEPS:
        messages.error(request, "Unknown action.")
        return redirect(back)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a valid date and note.")
        return redirect(back)
    data = form.cleaned_data
    if step in {"assess", "treat"} and data["on"] is None:
        messages.error(request, "Give the date.")
        return redirect(back)
    try:
        result = STEPS[step](referral, data, request.membership)
    except ConcertoError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Referral is now {result.get_status_display().lower()}.")
    return redirect(back)


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="contact")
@require_http_methods(["POST"])
def contact(request: MemberRequest, patient: Patient, referral_id: int) -> HttpResponse:
    referral = selectors.get_referral(by=request.membership, patient=patient, referral_id=referral_id)
    episode = get_object_or_404(Episode, referral=referral)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            actions.record_contact(
                episode=episode,
                on=form.cleaned_data["on"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                by=request.membership,
            )
        except ConcertoError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Contact recorded.")
    else:
        messages.error(request, "Give the contact's date and outcome.")
    return redirect(_detail_url(referral))


@require_permission(Permission.REFERRAL_MANAGE)
def hub(request: MemberRequest) -> HttpResponse:
    queue = selectors.triage_queue(by=request.membership)
    members = {t.pk: selectors.team_members(t) for t in selectors.teams_in_scope(request.membership)}
    return render(
        request,
        "referrals/hub.html",
        {
            "queue": [(r, selectors.clock_for(r), members.get(r.destination_id, [])) for r in queue],
            "destinations": selectors.referral_destinations(),
            "teams": selectors.teams_in_scope(request.membership),
        },
    )


@require_permission(Permission.REFERRAL_MANAGE)
def waiting(request: MemberRequest) -> HttpResponse:
    rows = selectors.waiting_list(by=request.membership, pathway=request.GET.get("pathway") or None)
    breaches = sum(1 for _, c in rows if c.breached and c.running)
    total, engaged = selectors.two_or_more_contacts(team=request.membership.organisation)
    return render(
        request,
        "referrals/waiting.html",
        {
            "rows": rows,
            "breaches": breaches,
            "performance": selectors.performance(by=request.membership),
            "contacts_total": total,
            "contacts_two_plus": engaged,
        },
    )


@require_permission(Permission.REFERRAL_MANAGE)
def caseload(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "referrals/caseload.html",
        {
            "episodes": selectors.caseload(by=request.membership),
            "sizes": selectors.caseload_sizes(team=request.membership.organisation),
        },
    )
