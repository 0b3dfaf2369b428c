import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from concerto.access import audit
from concerto.access.decorators import patient_view, require_permission
from concerto.access.middleware import MemberRequest
from concerto.access.models import AuditAction
from concerto.access.permissions import Permission
from concerto.access.policy import visible_patients
from concerto.core import clock
from concerto.core.errors import InvalidInput
from concerto.core.spreadsheet import formula_safe
from concerto.people.models import Patient
from concerto.register import actions, selectors
from concerto.register import rules as rules_module
from concerto.register.forms import (
    BulkInviteForm,
    CareAdjustmentForm,
    FollowUpForm,
    HealthCheckForm,
    InviteForm,
    RegisterFilterForm,
    ResponseForm,
)
from concerto.register.models import InvitationBatch
from concerto.register.queries import Status

CSV_COLUMNS = [
    ("NHS number", "nhs_number"),
    ("Family name", "family_name"),
    ("Given name", "given_name"),
    ("Date of birth", "date_of_birth"),
    ("Practice", "practice_name"),
    ("Status", "status_label"),
    ("Last check element", "last_check"),
    ("Invitations (12 months)", "invitations_count"),
    ("Last invited", "last_invited"),
    ("Outstanding", "outstanding"),
    ("Follow-up due", "follow_up_due"),
]


def _filters(request: MemberRequest, statuses):
    practices = selectors.practices_in_scope(request.membership)
    form = RegisterFilterForm(request.GET or None, practices=practices, statuses=statuses)
    data = form.cleaned_data if form.is_valid() else {}
    practice = data.get("practice")
    practice_ids = [practice] if practice else [p.pk for p in practices]
    on = data.get("on") or clock.today()
    return form, practice_ids, on, data.get("status") or None, data.get("order") or "priority"


def _decorate(rows: list[dict]) -> list[dict]:
    rules = rules_module.load()
    for row in rows:
        row["outstanding"] = ", ".join(e.label for e in rules.elements if row[f"{e.key}_date"] is None)
    return rows


def _csv(rows: list[dict], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # patient data: never kept by browsers or proxies
    writer = csv.writer(response)
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for row in rows:
        writer.writerow([formula_safe(row[key]) for _, key in CSV_COLUMNS])
    return response


@require_permission(Permission.PATIENT_VIEW_CLINICAL)
def register(request: MemberRequest) -> HttpResponse:
    statuses = list(Status.LABELS.items())
    form, practice_ids, on, status, order = _filters(request, statuses)
    export = request.GET.get("format") == "csv"
    rows = _decorate(
        selectors.worklist(
            by=request.membership,
            on=on,
            practice_ids=practice_ids,
            statuses=[status] if status else None,
            order=order,
            what="register_export" if export else "smi_register",
        )
    )
    if export:
        return _csv(rows, f"smi-register-{on.isoformat()}.csv")
    summary = selectors.indicator_summary(by=request.membership, on=on, practice_ids=practice_ids)
    return render(
        request,
        "register/register.html",
        {
            "form": form,
            "rows": rows,
            "on": on,
            "summary": summary,
            "query": request.GET.urlencode(),
        },
    )


@require_permission(Permission.PATIENT_VIEW_CLINICAL)
def recall(request: MemberRequest) -> HttpResponse:
    statuses = [(s, Status.LABELS[s]) for s in Status.ON_WORKLIST]
    form, practice_ids, on, status, order = _filters(request, statuses)
    export = request.GET.get("format") == "csv"
    rows = _decorate(
        selectors.worklist(
            by=request.membership,
            on=on,
            practice_ids=practice_ids,
            statuses=[status] if status else Status.ON_WORKLIST,
            order=order,
            what="recall_export" if export else "recall_worklist",
        )
    )
    if export:
        return _csv(rows, f"phc-recall-{on.isoformat()}.csv")
    invite_form = BulkInviteForm(patient_ids=[r["id"] for r in rows])
    return render(
        request,
        "register/recall.html",
        {
            "form": form,
            "rows": rows,
            "on": on,
            "invite_form": invite_form,
            "query": request.GET.urlencode(),
        },
    )


@require_permission(Permission.PATIENT_VIEW_CLINICAL)
def indicators(request: MemberRequest) -> HttpResponse:
    form, practice_ids, on, _status, _order = _filters(request, [])
    summary = selectors.indicator_summary(by=request.membership, on=on, practice_ids=practice_ids)
    return render(request, "register/indicators.html", {"form": form, "summary": summary, "on": on})


@require_permission(Permission.PATIENT_VIEW_CLINICAL)
def case_finding(request: MemberRequest) -> HttpResponse:
    form, practice_ids, on, _status, _order = _filters(request, [])
    found = selectors.case_finding(by=request.membership, on=on, practice_ids=practice_ids)
    return render(request, "register/case_finding.html", {"form": form, "found": found, "on": on})


@require_permission(Permission.PATIENT_RECORD_CLINICAL)
@require_http_methods(["POST"])
def bulk_invite(request: MemberRequest) -> HttpResponse:
    form = BulkInviteForm(request.POST, patient_ids=request.POST.getlist("patients"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(reverse("register:recall"))
    try:
        batch = actions.start_invitation_batch(
            patient_ids=form.cleaned_data["patients"], channel=form.cleaned_data["channel"], by=request.membership
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return redirect(reverse("register:recall"))
    return redirect(reverse("register:batch", args=[batch.pk]))


def _own_batch(request: MemberRequest, batch_id: int) -> InvitationBatch:
    return get_object_or_404(InvitationBatch, pk=batch_id, created_by=request.membership)


@require_permission(Permission.PATIENT_RECORD_CLINICAL)
def batch(request: MemberRequest, batch_id: int) -> HttpResponse:
    invitation_batch = _own_batch(request, batch_id)
    failures = list(
        invitation_batch.invitations.filter(
            status="failed", patient__in=visible_patients(request.membership, Permission.PATIENT_VIEW_DEMOGRAPHICS)
        ).select_related("patient")
    )
    audit.record(
        by=request.membership,
        action=AuditAction.VIEW,
        what="phc_invitation_batch",
        detail={"batch": invitation_batch.pk, "patient_ids": [i.patient_id for i in failures]},
    )
    return render(
        request,
        "register/batch.html",
        {
            "batch": invitation_batch,
            "progress": actions.batch_progress(invitation_batch),
            "failures": failures,
        },
    )


@require_permission(Permission.PATIENT_RECORD_CLINICAL)
@require_http_methods(["POST"])
def batch_continue(request: MemberRequest, batch_id: int) -> HttpResponse:
    """Send the next chunk. htmx asks again until done; without JavaScript the button does."""
    invitation_batch = _own_batch(request, batch_id)
    progress = actions.continue_invitation_batch(batch=invitation_batch, by=request.membership)
    if request.headers.get("HX-Request"):
        return render(request, "register/_batch_progress.htmx.html", {"batch": invitation_batch, "progress": progress})
    return redirect(reverse("register:batch", args=[batch_id]))


# --- patient pages -------------------------------------------------------------------------


def _simple_form(request, patient: Patient, form, *, title: str, button: str, hint: str = "") -> HttpResponse:
    return render(
        request,
        "register/simple_form.html",
        {"patient": patient, "form": form, "title": title, "button": button, "hint": hint},
    )


def _back(patient: Patient) -> str:
    return reverse("patient-summary", args=[patient.public_id]) + "#physical-health"


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="physical_health_check_form")
@require_http_methods(["GET", "POST"])
def record_check(request: MemberRequest, patient: Patient) -> HttpResponse:
    form = HealthCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_health_check(
                patient=patient,
                date=form.cleaned_data["date"],
                values=form.cleaned_data["measurements"],
                smoking=form.cleaned_data.get("smoking") or None,
                declined=form.cleaned_data.get("declined") or [],
                by=request.membership,
            )
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Health check recorded.")
            return redirect(_back(patient))
    return render(request, "register/record_check.html", {"patient": patient, "form": form})


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="follow_up_form")
@require_http_methods(["GET", "POST"])
def record_follow_up(request: MemberRequest, patient: Patient) -> HttpResponse:
    rules = rules_module.load()
    form = FollowUpForm(
        request.POST or None, interventions=rules.interventions, initial={"kind": request.GET.get("kind", "")}
    )
    if request.method == "POST" and form.is_valid():
        actions.record_follow_up(patient=patient, by=request.membership, **form.cleaned_data)
        messages.success(request, "Follow-up recorded.")
        return redirect(_back(patient))
    return _simple_form(request, patient, form, title="Record a follow-up", button="Save follow-up")


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="care_adjustment_form")
@require_http_methods(["GET", "POST"])
def record_care_adjustment(request: MemberRequest, patient: Patient) -> HttpResponse:
    form = CareAdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.record_care_adjustment(patient=patient, by=request.membership, **form.cleaned_data)
        messages.success(request, "Care adjustment recorded: the patient is excluded from recall for 12 months.")
        return redirect(_back(patient))
    return _simple_form(
        request,
        patient,
        form,
        title="Record a personalised care adjustment",
        button="Save adjustment",
        hint="Informed dissent or unsuitability excludes the patient from the check's recall and QOF "
        "denominators for 12 months.",
    )


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="phc_invitation_form")
@require_http_methods(["GET", "POST"])
def invite(request: MemberRequest, patient: Patient) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation = actions.invite(patient=patient, channel=form.cleaned_data["channel"], by=request.membership)
        if invitation.status == "sent":
            messages.success(request, f"Invitation sent ({invitation.get_channel_display().lower()}).")
        else:
            messages.error(request, f"The invitation could not be sent: {invitation.error}")
        return redirect(_back(patient))
    return _simple_form(request, patient, form, title="Invite for a physical health check", button="Invite")


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="phc_invitation_response_form")
@require_http_methods(["POST"])
def invitation_response(request: MemberRequest, patient: Patient, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(patient.phc_invitations, pk=invitation_id)
    form = ResponseForm(request.POST)
    if form.is_valid():
        actions.record_invitation_response(invitation=invitation, by=request.membership, **form.cleaned_data)
        messages.success(request, "Response recorded.")
    else:
        messages.error(request, "Choose a response and a date that is not in the future.")
    return redirect(_back(patient))
