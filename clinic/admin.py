from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from clinic.models import AuditEntry, Clinic, Heartbeat, User


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "clinic", "is_active", "last_login"]
    list_filter = ["role", "clinic", "is_active", "is_staff"]
    list_select_related = ["clinic"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
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
