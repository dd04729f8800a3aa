from django.utils.functional import SimpleLazyObject

from .selectors import notifications_unread_count


def inbox(request) -> dict:
    """Give templates the logged-in user's unread count: one COUNT, and only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notifications_unread_count(user=user))}
