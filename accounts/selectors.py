from .models import Role, User


def user_roles(*, user: User) -> list[str]:
    """Return the staff roles the user holds, by group name."""
    names = {group.name for group in user.groups.all()}
    return [role.value for role in Role if role.value in names]
