from django.http import HttpRequest

from concerto.access.models import Membership

SESSION_KEY = "concerto_membership_id"


class ActingRequest(HttpRequest):
    """For type checking: a request after MembershipMiddleware has run."""

    membership: Membership | None


class MemberRequest(HttpRequest):
    """For type checking: a request in a view behind `membership_required`."""

    membership: Membership


class MembershipMiddleware:
    """Puts the membership the user chose for this session on `request.membership` (or None)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        membership_id = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
        if membership_id is not None:
            request.membership = (
                Membership.objects.select_related("organisation", "user")
                .filter(pk=membership_id, user=request.user, is_active=True)
                .first()
            )
        return self.get_response(request)
