from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from concerto.access.permissions import Permission
from concerto.access.policy import has_permission


class ConcertoAdminSite(admin.AdminSite):
    """Django admin for reference data, open only to a user acting as a system administrator."""

    site_header = "Concerto reference data"
    site_title = "Concerto admin"

    def has_permission(self, request):
        return (
            request.user.is_active
            and request.user.is_staff
            and has_permission(getattr(request, "membership", None), Permission.REFERENCE_DATA_ADMIN)
        )

    def login(self, request, extra_context=None):
        # One log-in for the whole service (it also chooses the membership).
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", "/admin/"), login_url="/login/")


class ReferenceDataAdmin(admin.ModelAdmin):
    """Rights come from acting as a system administrator, not from Django's per-model permissions,
    so the admin cannot be used to grant oneself anything the access policy would not."""

    def _allowed(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class ReadOnlyAdmin(ReferenceDataAdmin):
    """Visible to system administrators, changed only through actions (which audit)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
