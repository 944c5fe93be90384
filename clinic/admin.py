from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from clinic.models import AuditEntry, Clinic, Heartbeat, User


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


# What a user may do follows from their role (and is_superuser for this admin); Django's
# groups and per-user permissions grant nothing in the product. Their pickers are left
# out: on SQLite an id past the integer range sent to one answered a 500.
admin.site.unregister(Group)
UNUSED_FIELDS = {"groups", "user_permissions"}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "clinic", "is_active", "last_login"]
    list_filter = ["role", "clinic", "is_active", "is_staff"]
    list_select_related = ["clinic"]
    filter_horizontal = []
    fieldsets = [
        *(
            (name, {**options, "fields": [f for f in options["fields"] if f not in UNUSED_FIELDS]})
            for name, options in BaseUserAdmin.fieldsets
        ),
        ("Clinic", {"fields": ["role", "clinic"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        ("Clinic", {"fields": ["role", "clinic"]}),
    ]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: an entry is never added, changed or deleted by hand."""

    list_display = ["at", "actor", "role", "action", "patient_id", "method", "path", "request_id"]
    list_filter = ["action", "role"]
    list_select_related = ["actor"]
    search_fields = ["=patient_id", "=request_id", "actor__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
