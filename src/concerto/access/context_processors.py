from concerto.access.permissions import Permission
from concerto.access.policy import has_permission


def acting_as(request):
    """`membership` (who the user is acting as) and `can.<permission>` for templates."""
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "can": {p.value: has_permission(membership, p) for p in Permission},
    }
