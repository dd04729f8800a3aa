from django.conf import settings
from django.contrib.auth.models import Group, Permission


def grant_role_permissions(**kwargs) -> None:
    """Give each staff role group the permissions settings.ROLE_PERMISSIONS lists."""
    for group_name, patterns in settings.ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for pattern in patterns:
            app_label, codename = pattern.split(".", 1)
            permissions = Permission.objects.filter(content_type__app_label=app_label)
            if codename.endswith("*"):
                permissions = permissions.filter(codename__startswith=codename[:-1])
            else:
                permissions = permissions.filter(codename=codename)
            wanted.extend(permissions)
        # The setting is the whole truth: a permission taken out of it is taken away.
        group.permissions.set(wanted)
