import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from concerto.access.decorators import membership_required, patient_view, require_permission
from concerto.access.middleware import MemberRequest
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.core import clock
from concerto.core.errors import ConcertoError
from concerto.directory import actions, selectors, semantic
from concerto.directory.forms import (
    ActivityForm,
    AttendanceForm,
    DeclineForm,
    ImportForm,
    NoteForm,
    PrescribeForm,
    SearchForm,
    ServiceForm,
    WellbeingForm,
)
from concerto.directory.models import Service, SocialPrescription, Taxonomy, TaxonomyTerm
from concerto.people.models import Patient


def _criteria(form: SearchForm, postcode: str = "", age: int | None = None) -> selectors.Criteria:
    data = form.cleaned_data
    return selectors.Criteria(
        text=data["q"] or "",
        needs=tuple(data["needs"]),
        postcode=postcode or data["postcode"] or "",
        within_km=float(data["within_km"]) if data["within_km"] else None,
        open_on=int(data["day"]) if data["day"] else None,
        open_at=data["time"],
        age=age if age is not None else data["age"],
        free_only=data["free_only"],
        semantic=data["semantic"],
    )


def _search_page(request: MemberRequest, patient: Patient | None) -> HttpResponse:
    form = SearchForm(request.GET or None, needs=selectors.needs_terms())
    results = None
    if form.is_bound and form.is_valid():
        # Near the patient: their postcode and age come from the record, never from the URL.
        criteria = _criteria(form, patient.postcode if patient else "", patient.age if patient else None)
        results = selectors.search(criteria)
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "results": results,
            "patient": patient,
            "semantic_available": semantic.available(),
            "stale_months": selectors.stale_after_months(),
        },
    )


@membership_required
def search(request: MemberRequest) -> HttpResponse:
    return _search_page(request, None)


@patient_view(Permission.REFERRAL_MAKE, what="directory_search")
def search_for_patient(request: MemberRequest, patient: Patient) -> HttpResponse:
    return _search_page(request, patient)


def _service_or_404(oruk_id: str) -> Service:
    service = selectors.get_service(oruk_id)
    if service is None:
        raise Http404("No such service")
    return service


@membership_required
def service(request: MemberRequest, oruk_id: str) -> HttpResponse:
    svc = _service_or_404(oruk_id)
    return render(
        request,
        "directory/service.html",
        {
            "service": svc,
            "stale": svc.is_stale(clock.today(), selectors.stale_after_months()),
            "can_edit": has_permission(request.membership, Permission.DIRECTORY_MANAGE)
            and svc.organisation.organisation_id == request.membership.organisation_id,
        },
    )


@patient_view(Permission.REFERRAL_MAKE, what="social_prescription_form")
@require_http_methods(["GET", "POST"])
def prescribe(request: MemberRequest, patient: Patient, oruk_id: str) -> HttpResponse:
    svc = _service_or_404(oruk_id)
    form = PrescribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.prescribe(
                patient=patient,
                service=svc,
                reason=form.cleaned_data["reason"],
                consent_confirmed=form.cleaned_data["consent_confirmed"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                by=request.membership,
            )
        except ConcertoError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Referred to {svc.name}.")
            return redirect("directory:patient", patient.public_id)
    return render(request, "directory/prescribe.html", {"patient": patient, "service": svc, "form": form})


@patient_view(Permission.PATIENT_VIEW_DEMOGRAPHICS, what="social_prescribing")
@require_http_methods(["GET", "POST"])
def patient(request: MemberRequest, patient: Patient) -> HttpResponse:
    by = request.membership
    if request.POST.get("form") == "close":
        case = selectors.open_case(by=by, patient=patient)
        if case is not None:
            try:
                actions.close_case(case=case, by=by)
            except ConcertoError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Case closed: they stay connected to the services they joined.")
        return redirect("directory:patient", patient.public_id)
    note_form = NoteForm(request.POST if request.POST.get("form") == "note" else None)
    if note_form.is_bound and note_form.is_valid():
        try:
            actions.add_what_matters(patient=patient, text=note_form.cleaned_data["text"], by=by)
        except ConcertoError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Note added.")
            return redirect("directory:patient", patient.public_id)
    return render(
        request,
        "directory/patient.html",
        {
            "patient": patient,
            "notes": selectors.what_matters(by=by, patient=patient),
            "may_read_notes": selectors.may_read_what_matters(by),
            "can_note": has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING),
            "case": selectors.open_case(by=by, patient=patient),
            "note_form": NoteForm() if not note_form.is_bound else note_form,
            "prescriptions": selectors.for_patient(by=by, patient=patient),
            "wellbeing_form": WellbeingForm(),
            "can_refer": has_permission(by, Permission.REFERRAL_MAKE),
        },
    )


def _prescription_or_404(patient: Patient, prescription_id: int) -> SocialPrescription:
    found = selectors.get_prescription(patient=patient, prescription_id=prescription_id)
    if found is None:
        raise Http404("No such prescription")
    return found


@patient_view(Permission.PATIENT_VIEW_DEMOGRAPHICS, what="social_prescription_update")
@require_http_methods(["POST"])
def act(request: MemberRequest, patient: Patient, prescription_id: int, step: str) -> HttpResponse:
    """One step on a prescription: the service accepts, hands over, records attendance; the link
    worker or the service records wellbeing scores."""
    prescription = _prescription_or_404(patient, prescription_id)
    by = request.membership
    back = reverse("directory:incoming") if request.POST.get("next") == "incoming" else None
    back = back or reverse("directory:patient", args=[patient.public_id])
    try:
        if step == "accept":
            version = request.POST.get("version", "")
            if not (version.isascii() and version.isdigit()):
                messages.error(request, "The page was out of date: look at the referral again, then decide.")
                return redirect(back)
            actions.accept(prescription=prescription, version=int(version), by=by)
            messages.success(
                request, f"Accepted: {patient.given_name} {patient.family_name} for {prescription.service.name}."
            )
        elif step == "decline":
            decline_form = DeclineForm(request.POST, services=selectors.referral_services())
            if not decline_form.is_valid():
                messages.error(request, "Choose the service to hand over to and write a hand-over note.")
                return redirect(back)
            to_service = get_object_or_404(Service, pk=decline_form.cleaned_data["to_service"])
            actions.decline(
                prescription=prescription,
                version=decline_form.cleaned_data["version"],
                to_service=to_service,
                handover_note=decline_form.cleaned_data["handover_note"],
                by=by,
            )
            messages.success(request, f"Handed over to {to_service.name}.")
        elif step == "attendance":
            attendance = AttendanceForm(request.POST)
            if not attendance.is_valid():
                messages.error(request, "Give the session date and whether they came.")
                return redirect(back)
            data = attendance.cleaned_data
            actions.record_attendance(prescription=prescription, on=data["on"], attended=data["attended"], by=by)
            messages.success(request, "Attendance recorded.")
        elif step == "wellbeing":
            wellbeing = WellbeingForm(request.POST)
            if not wellbeing.is_valid():
                messages.error(request, "Each wellbeing score is a whole number from 0 to 10.")
                return redirect(back)
            actions.record_wellbeing(prescription=prescription, by=by, **wellbeing.cleaned_data)
            messages.success(request, "Wellbeing scores recorded.")
        else:
            raise Http404("Unknown step")
    except ConcertoError as exc:
        messages.error(request, str(exc))
    return redirect(back)


@require_permission(Permission.PATIENT_SOCIAL_PRESCRIBING)
def caseload(request: MemberRequest) -> HttpResponse:
    return render(request, "directory/caseload.html", {"cases": selectors.caseload(by=request.membership)})


@require_permission(Permission.REFERRAL_MANAGE)
def incoming(request: MemberRequest) -> HttpResponse:
    services = selectors.referral_services()
    rows = [
        (
            p,
            DeclineForm(
                services=[s for s in services if s.organisation.organisation_id != request.membership.organisation_id]
            ),
        )
        for p in selectors.incoming(by=request.membership)
    ]
    return render(request, "directory/incoming.html", {"rows": rows, "attendance_form": AttendanceForm()})


# --- maintaining one's own services -------------------------------------------------------------


@require_permission(Permission.DIRECTORY_MANAGE)
@require_http_methods(["GET", "POST"])
def mine(request: MemberRequest) -> HttpResponse:
    by = request.membership
    services = selectors.services_of(by.organisation_id)
    activity_form = ActivityForm(request.POST or None)
    if request.method == "POST":
        svc = get_object_or_404(Service, pk=request.POST.get("service"), organisation__organisation=by.organisation)
        try:
            if request.POST.get("form") == "verify":
                actions.verify_service(service=svc, by=by)
                messages.success(request, f"{svc.name}: marked as checked today.")
            elif activity_form.is_valid():
                actions.record_programme_activity(service=svc, by=by, **activity_form.cleaned_data)
                messages.success(request, f"{svc.name}: activity recorded.")
            else:
                messages.error(request, "Give the month and the counts.")
        except ConcertoError as exc:
            messages.error(request, str(exc))
        return redirect("directory:mine")
    return render(
        request,
        "directory/mine.html",
        {
            "services": services,
            "programmes": [s for s in services if any(t.taxonomy == Taxonomy.LIFE_COURSE for t in s.terms.all())],
            "activity_form": ActivityForm(),
            "import_form": ImportForm(),
            "stale_months": selectors.stale_after_months(),
        },
    )


@require_permission(Permission.DIRECTORY_MANAGE)
@require_http_methods(["GET", "POST"])
def edit(request: MemberRequest, oruk_id: str | None = None) -> HttpResponse:
    by = request.membership
    svc = None
    if oruk_id is not None:
        svc = get_object_or_404(Service, oruk_id=oruk_id, organisation__organisation=by.organisation)
    terms = list(TaxonomyTerm.objects.order_by("taxonomy", "name"))
    initial = {}
    if svc is not None:
        location = svc.locations.first()
        initial = {
            "name": svc.name,
            "description": svc.description,
            "status": svc.status,
            "terms": [t.pk for t in svc.terms.all()],
            "location_name": location.name if location else "",
            "address": location.address_1 if location else "",
            "postcode": location.postcode if location else "",
            "openings": "\n".join(f"{s.day_name} {s.opens_at:%H:%M}-{s.closes_at:%H:%M}" for s in svc.schedules.all()),
            "minimum_age": svc.minimum_age,
            "maximum_age": svc.maximum_age,
            "cost": max((c.amount or 0 for c in svc.cost_options.all()), default=0),
            "email": svc.email,
            "url": svc.url,
        }
    form = ServiceForm(request.POST or None, initial=initial, terms=terms)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [t for t in terms if str(t.pk) in data["terms"]]
        try:
            svc = actions.save_service(
                by=by,
                service=svc,
                name=data["name"],
                description=data["description"],
                status=data["status"],
                terms=chosen,
                openings=data["openings"],
                location_name=data["location_name"],
                address=data["address"],
                postcode=data["postcode"],
                minimum_age=data["minimum_age"],
                maximum_age=data["maximum_age"],
                cost=data["cost"],
                email=data["email"],
                url=data["url"],
            )
        except ConcertoError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {svc.name}.")
            return redirect("directory:mine")
    return render(request, "directory/edit.html", {"form": form, "service": svc})


@require_permission(Permission.DIRECTORY_MANAGE)
@require_http_methods(["POST"])
def import_file(request: MemberRequest) -> HttpResponse:
    """Import an ORUK file of the member's own organisation's services (checked record by record)."""
    form = ImportForm(request.POST, request.FILES)
    problems: list = []
    if form.is_valid():
        try:
            result = actions.import_services(text=form.cleaned_data["file"].read(), by=request.membership)
        except actions.ImportRejected as exc:
            problems = exc.problems
        else:
            messages.success(request, f"Imported: {result.created} new, {result.updated} updated.")
            return redirect("directory:mine")
    else:
        messages.error(request, "Choose a file to import.")
        return redirect("directory:mine")
    return render(request, "directory/import_problems.html", {"problems": problems}, status=400)


@membership_required
def export(request: MemberRequest) -> HttpResponse:
    """The whole directory as Open Referral UK v3 JSON (a page of services)."""
    response = JsonResponse(selectors.export_document(), json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'attachment; filename="directory-oruk3.json"'
    return response


@membership_required
def programmes(request: MemberRequest) -> HttpResponse:
    since, until = selectors.programme_window()
    return render(
        request,
        "directory/programmes.html",
        {"rows": selectors.programme_activity(), "since": since, "last_month": until - dt.timedelta(days=1)},
    )
