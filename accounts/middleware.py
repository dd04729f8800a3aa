import zoneinfo

from django.utils import timezone


class UserTimeZoneMiddleware:
    """Show every time in the logged-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        # override() restores the previous zone afterwards, so nothing leaks to the next
        # request (or task) this thread serves.
        with timezone.override(zone):
            return self.get_response(request)
