from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from . import cached
from .models import Notification, Role, User


def user_roles(*, user: User) -> list[str]:
    """Return the staff roles the user holds, by group name."""
    names = {group.name for group in user.groups.all()}
    return [role.value for role in Role if role.value in names]


def notifications_for_user(*, user: User) -> QuerySet[Notification]:
    """Return the user's own inbox, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notifications_unread_count(*, user: User) -> int:
    """How many of the user's notifications are unread: kept in the cache between changes."""
    return cached.unread_count(
        user.pk, lambda: Notification.objects.filter(user=user, read_at__isnull=True).count()
    )


def notification_get_for_user(*, user: User, pk: int) -> Notification:
    """Return one of the user's own notifications, or raise Http404."""
    return get_object_or_404(notifications_for_user(user=user), pk=pk)
