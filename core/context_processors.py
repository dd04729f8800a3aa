from django.conf import settings


def live(request) -> dict:
    """How often pages that follow a deadline poll for their status and deadline card."""
    return {"live_poll_seconds": settings.LIVE_POLL_SECONDS}
