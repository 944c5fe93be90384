from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from clinic.models import Clinic, Heartbeat, User


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
