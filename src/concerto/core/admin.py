from django.contrib import admin

from concerto.config.admin import ReferenceDataAdmin
from concerto.core.models import CodeListEntry, CodeListVersion


class CodeListEntryInline(admin.TabularInline):
    model = CodeListEntry
    extra = 0


@admin.register(CodeListVersion)
class CodeListVersionAdmin(ReferenceDataAdmin):
    list_display = ("name", "version", "system", "loaded_at")
    search_fields = ("name", "description")
    inlines = [CodeListEntryInline]
