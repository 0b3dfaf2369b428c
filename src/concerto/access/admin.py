from django.contrib import admin

from concerto.access.models import AuditEvent, Membership
from concerto.config.admin import ReadOnlyAdmin


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "organisation", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "organisation__name", "organisation__code")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "organisation_code", "role", "action", "what", "patient_id")
    list_filter = ("action", "what")
    search_fields = ("username", "nhs_number")
