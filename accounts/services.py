from core.errors import NotAllowed

from .models import User


class AccountSuspended(NotAllowed):
    code = "account_suspended"
    default_message = "Your account is suspended: you can read, but not take actions."


def user_ensure_can_act(*, user: User) -> None:
    """Raise AccountSuspended when ``user`` may only read."""
    if user.suspended_at is not None:
        raise AccountSuspended()
