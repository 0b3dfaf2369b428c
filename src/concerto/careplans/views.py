from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods

from concerto.access.decorators import patient_view
from concerto.access.middleware import MemberRequest
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.careplans import actions, pdf, selectors
from concerto.careplans.forms import AgreementForm, PlanEditor, ResolveRequestForm
from concerto.careplans.models import ChangeRequest, Kind
from concerto.careplans.sections import NATIONAL_FALLBACKS
from concerto.core.errors import ConcertoError
from concerto.people.models import Patient

VIEW, EDIT = Permission.PATIENT_CAREPLAN_VIEW, Permission.PATIENT_CAREPLAN_EDIT


def plan_url(patient: Patient, kind: str, page: str = "") -> str:
    return reverse(f"careplans:{kind}{'-' + page if page else ''}", args=[patient.public_id])


def _context(request: MemberRequest, patient: Patient, kind: str, **extra) -> dict:
    return {
        "patient": patient,
        "kind": kind,
        "kind_label": Kind(kind).label,
        "other_kind": Kind.CRISIS if kind == Kind.CARE else Kind.CARE,
        "can_edit": has_permission(request.membership, EDIT),
        # DIALOG ratings are clinical record: roles without it see only where help is wanted.
        "show_scores": has_permission(request.membership, Permission.PATIENT_VIEW_CLINICAL),
        "fallbacks": NATIONAL_FALLBACKS,
        **extra,
    }


@patient_view(VIEW, what="care_plan")
def plan(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    by = request.membership
    versions = selectors.plan_versions(patient, by=by, kind=kind)
    latest = versions[0] if versions else None
    agreed = selectors.last_agreed(versions)
    context = _context(
        request,
        patient,
        kind,
        version=latest,
        last_agreed=agreed,
        review_overdue=selectors.review_overdue(latest),
        newer_dialog=selectors.newer_dialog(latest, selectors.dialog_needs(patient, by=by) if latest else None),
        change_requests=[r for r in selectors.open_change_requests(patient, by=by) if r.kind == kind],
        agreement_form=AgreementForm(initial={"version": latest.number}) if latest and not latest.is_agreed else None,
        resolve_form=ResolveRequestForm(),
    )
    return render(request, "careplans/plan.html", context)


def _render_editor(request, patient, kind, editor, based_on, *, conflict=None, status=200):
    by = request.membership
    context = _context(
        request,
        patient,
        kind,
        editor=editor,
        based_on=based_on,
        conflict=conflict,
        suggestions=selectors.physical_health_suggestions(patient, by=by) if kind == Kind.CARE else [],
        dialog=selectors.dialog_needs(patient, by=by) if kind == Kind.CARE else None,
    )
    return render(request, "careplans/edit.html", context, status=status)


@patient_view(EDIT, what="care_plan_edit")
@require_http_methods(["GET", "POST"])
def edit(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    if request.method == "GET":
        latest = selectors.current_plan(patient, by=request.membership, kind=kind)
        editor = PlanEditor(kind, content=latest.content if latest else None)
        return _render_editor(request, patient, kind, editor, latest.number if latest else 0)
    try:
        based_on = int(request.POST.get("based_on", ""))
    except ValueError:
        raise Http404("No version given") from None
    editor = PlanEditor(kind, data=request.POST)
    if not editor.is_valid():
        return _render_editor(request, patient, kind, editor, based_on, status=400)
    try:
        version = actions.save_plan(
            patient=patient,
            kind=kind,
            based_on=based_on,
            content=editor.content(),
            change_note=editor.change_note,
            by=request.membership,
        )
    except actions.Conflict as conflict:
        # Keep this person's unsaved text in the form and show the other person's version beside
        # it; the form now builds on their version, so saving again is a deliberate choice.
        return _render_editor(request, patient, kind, editor, conflict.latest.number, conflict=conflict, status=409)
    except ConcertoError as exc:
        editor.main.add_error(None, str(exc))
        return _render_editor(request, patient, kind, editor, based_on, status=400)
    messages.success(request, f"Saved as version {version.number} (draft until agreed with the patient).")
    return redirect(plan_url(patient, kind))


@patient_view(EDIT, what="care_plan_agree")
@require_http_methods(["POST"])
def agree(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    form = AgreementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say who agreed the plan, when and how.")
        return redirect(plan_url(patient, kind))
    try:
        version = actions.agree_plan(
            patient=patient,
            kind=kind,
            based_on=form.cleaned_data["version"],
            agreed_with=form.cleaned_data["agreed_with"],
            agreed_on=form.cleaned_data["agreed_on"],
            how=form.cleaned_data["how"],
            by=request.membership,
        )
    except actions.Conflict as conflict:
        messages.error(request, f"{conflict} Check the latest version before recording agreement.")
        return redirect(plan_url(patient, kind))
    except ConcertoError as exc:
        messages.error(request, str(exc))
        return redirect(plan_url(patient, kind))
    messages.success(request, f"Agreement recorded: version {version.number} is the agreed plan.")
    return redirect(plan_url(patient, kind))


@patient_view(VIEW, what="care_plan_versions")
def versions(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    return render(
        request,
        "careplans/versions.html",
        _context(request, patient, kind, versions=selectors.plan_versions(patient, by=request.membership, kind=kind)),
    )


@patient_view(VIEW, what="care_plan_version")
def version(request: MemberRequest, patient: Patient, kind: str, number: int) -> HttpResponse:
    shown = selectors.get_version(patient, by=request.membership, kind=kind, number=number)
    latest = selectors.current_plan(patient, by=request.membership, kind=kind)
    return render(request, "careplans/version.html", _context(request, patient, kind, version=shown, latest=latest))


@patient_view(VIEW, what="care_plan_compare")
def compare(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    by = request.membership
    try:
        a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError:
        messages.error(request, "Choose two versions to compare.")
        return redirect(plan_url(patient, kind, "versions"))
    version_a = selectors.get_version(patient, by=by, kind=kind, number=min(a, b))
    version_b = selectors.get_version(patient, by=by, kind=kind, number=max(a, b))
    return render(
        request,
        "careplans/compare.html",
        _context(
            request,
            patient,
            kind,
            a=version_a,
            b=version_b,
            diff=selectors.plan_diff(
                version_a,
                version_b,
                show_scores=has_permission(by, Permission.PATIENT_VIEW_CLINICAL),
            ),
        ),
    )


@patient_view(VIEW, what="care_plan_print")
def print_pdf(request: MemberRequest, patient: Patient, kind: str) -> HttpResponse:
    latest = selectors.current_plan(patient, by=request.membership, kind=kind)
    if latest is None:
        raise Http404("No plan yet")
    large = request.GET.get("size") == "large"
    show_scores = has_permission(request.membership, Permission.PATIENT_VIEW_CLINICAL)
    response = HttpResponse(
        pdf.render_pdf(latest, large_print=large, show_scores=show_scores), content_type="application/pdf"
    )
    patch_cache_control(response, no_store=True, private=True)
    filename = f"{kind}-plan-v{latest.number}{'-large-print' if large else ''}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@patient_view(EDIT, what="plan_change_request")
@require_http_methods(["POST"])
def resolve_request(request: MemberRequest, patient: Patient, kind: str, request_id: int) -> HttpResponse:
    change_request = get_object_or_404(ChangeRequest, pk=request_id, patient=patient)
    form = ResolveRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what was done about the request.")
        return redirect(plan_url(patient, kind))
    try:
        actions.resolve_change_request(
            patient=patient,
            change_request=change_request,
            resolution=form.cleaned_data["resolution"],
            by=request.membership,
        )
    except ConcertoError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Marked as dealt with.")
    return redirect(plan_url(patient, kind))
