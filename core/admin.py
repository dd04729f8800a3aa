"""Admin bases for rows that change only through the services."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and state change only through the services (and the ledger only through
    contracts.ledger), so staff read these rows here and act through the actions offered."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
