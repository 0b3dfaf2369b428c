import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from concerto.access import audit
from concerto.access.models import AuditAction
from concerto.careplans import actions as careplans
from concerto.careplans import pdf
from concerto.careplans import selectors as plans
from concerto.careplans.models import Kind
from concerto.core.errors import ConcertoError, InvalidInput
from concerto.outcomes import actions as outcomes
from concerto.outcomes import definitions
from concerto.outcomes import selectors as outcome_selectors
from concerto.outcomes.crisis import crisis_text
from concerto.outcomes.forms import QuestionnaireForm
from concerto.outcomes.scoring import AnswerErrors
from concerto.portal import actions, auth, selectors
from concerto.portal.auth import PatientRequest, patient_required
from concerto.portal.forms import PlanChangeForm, SelfReferralForm, SignInForm
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


@never_cache
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


@patient_required
def questionnaire_list(request: PatientRequest) -> HttpResponse:
    """Questionnaires to fill in, and the patient's own scores over time (chart and table)."""
    from concerto.outcomes import charts  # Altair (and pandas) load on first use, not at start-up

    known = definitions.all_questionnaires()
    mine = outcome_selectors.responses_for_patient(request.patient)
    panels = []
    for key in definitions.in_display_order({r.questionnaire_key for r in mine}):
        questionnaire = known.get(key)
        series = outcome_selectors.score_series_for_patient(request.patient, key)
        panels.append(
            {
                "key": key,
                "title": next(r.questionnaire_title for r in mine if r.questionnaire_key == key),
                "series": series,
                "chart": charts.score_chart(questionnaire, series) if questionnaire and series else None,
                "chart_id": f"chart-{key}",
            }
        )
    available = [known[k] for k in definitions.in_display_order(known)]
    return render(request, "portal/questionnaires.html", {"available": available, "panels": panels})


@patient_required
@require_http_methods(["GET", "POST"])
def questionnaire_fill(request: PatientRequest, key: str) -> HttpResponse:
    try:
        questionnaire = definitions.get(key)
    except InvalidInput:
        raise Http404("No such questionnaire") from None
    form = QuestionnaireForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            response = outcomes.record_response(
                patient=request.patient,
                questionnaire=questionnaire,
                answers=form.answers(),
                by=None,
                completed_by_patient=True,
                idempotency_key=form.idempotency_key(),
            )
        except AnswerErrors as exc:
            form.show(exc)
        except ConcertoError as exc:
            form.add_error(None, str(exc))
        else:
            if response.risk_flagged:
                # Shown straight away, not after a redirect: this page must not be missed.
                return render(
                    request,
                    "portal/questionnaire_done.html",
                    {"questionnaire": questionnaire, "crisis_text": crisis_text()},
                )
            messages.success(request, f"Thank you. Your answers to {questionnaire.title} have been saved.")
            return redirect("portal:questionnaires")
    return render(request, "portal/questionnaire.html", {"questionnaire": questionnaire, "form": form})


PLAN_KINDS = {"plan": Kind.CARE, "crisis-plan": Kind.CRISIS}


def _kind(slug: str) -> str:
    if slug not in PLAN_KINDS:
        raise Http404("No such plan")
    return PLAN_KINDS[slug]


@patient_required
@require_http_methods(["GET", "POST"])
def plan(request: PatientRequest, slug: str) -> HttpResponse:
    """The plan the patient agreed, any newer draft marked as a draft, and a way to ask for a change.
    The care plan page also shows the patient's latest DIALOG answers, which may be newer than the plan."""
    kind = _kind(slug)
    form = PlanChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            careplans.request_plan_change(patient=request.patient, text=form.cleaned_data["text"], kind=kind)
        except InvalidInput as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "Thank you. Your care team will be in touch about the change you asked for.")
            return redirect(request.path)
    shown = (
        plans.current_plan_for_patient(request.patient)
        if kind == Kind.CARE
        else plans.crisis_plan_for_patient(request.patient)
    )
    dialog = outcome_selectors.latest_dialog_for_patient(request.patient) if kind == Kind.CARE else None
    return render(
        request,
        "portal/plan.html",
        {
            "slug": slug,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "plan": shown,
            "review_overdue": plans.review_overdue(shown.latest),
            "dialog": dialog,
            "form": form,
        },
    )


@patient_required
def plan_pdf(request: PatientRequest, slug: str) -> HttpResponse:
    kind = _kind(slug)
    shown = (
        plans.current_plan_for_patient(request.patient)
        if kind == Kind.CARE
        else plans.crisis_plan_for_patient(request.patient)
    )
    version = shown.agreed or shown.draft
    if version is None:
        raise Http404("No plan yet")
    large = request.GET.get("large") == "1"
    response = HttpResponse(pdf.render_pdf(version, large_print=large), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="my-{slug}{"-large-print" if large else ""}.pdf"'
    return response
