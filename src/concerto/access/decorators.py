import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.access.selectors import get_patient


def membership_required(view):
    """Logged in and acting as a membership; otherwise off to log in or choose one."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.membership is None:
            return redirect_to_login(request.get_full_path(), login_url=reverse("choose-membership"))
        return view(request, *args, **kwargs)

    return wrapper


def require_permission(permission: Permission):
    def decorator(view):
        @membership_required
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_permission(request.membership, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def patient_view(permission: Permission, what: str):
    """Load `patient_id` (the patient's public id) through the access policy, auditing the read.

    A patient the membership has no relationship with answers 404, exactly like one that does not
    exist; the attempt is audited as denied.
    """

    def decorator(view):
        @membership_required
        @functools.wraps(view)
        def wrapper(request, patient_id, *args, **kwargs):
            patient = get_patient(by=request.membership, public_id=patient_id, permission=permission, what=what)
            return view(request, patient, *args, **kwargs)

        return wrapper

    return decorator
