from django.contrib import admin

from concerto.config.admin import ReferenceDataAdmin
from concerto.organisations.models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(ReferenceDataAdmin):
    list_display = ("code", "name", "kind", "team_type", "parent")
    list_filter = ("kind", "team_type")
    search_fields = ("code", "name")
