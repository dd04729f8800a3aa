from django.utils import timezone

from core.formats import zone_of


class UserTimeZoneMiddleware:
    """Show every time in the logged-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = zone_of(user) if user is not None and user.is_authenticated else None
        # override() restores the previous zone afterwards, so nothing leaks to the next
        # request (or task) this thread serves.
        with timezone.override(zone):
            return self.get_response(request)
