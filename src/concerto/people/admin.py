from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from concerto.people.models import User

# Patients are deliberately not in the admin: every read of patient data goes through the access
# policy and the audit trail, which the admin would bypass.
admin.site.register(User, UserAdmin)
