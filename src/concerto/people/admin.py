from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from concerto.config.admin import ReadOnlyAdmin
from concerto.people.models import User


# Patients are deliberately not in the admin: every read of patient data goes through the access
# policy and the audit trail, which the admin would bypass. Users are read-only here: accounts and
# memberships change through actions (people.actions, access.actions).
@admin.register(User)
class StaffUserAdmin(ReadOnlyAdmin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "is_active", "last_login")
