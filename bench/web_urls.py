"""The app's URLs and the bench's trivial view (see ``bench.web_settings``)."""

from django.http import JsonResponse
from django.urls import path

from config.urls import handler404  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns


def bare(request):
    """What every page pays before its own work: the session and the user."""
    return JsonResponse({"user": request.user.pk})


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
