from django.contrib import admin
from django.db import models

from clinic.audit import AuditedAdmin
from patients.models import ActivationCode, Patient, ReminderPreference


class ReminderPreferenceInline(admin.StackedInline):
    model = ReminderPreference
    can_delete = False
    # The secret signs webhooks; an admin has no reason to read it.
    exclude = ["webhook_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Patient)
class PatientAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "clinic", "timezone", "created_at"]
    list_filter = ["clinic"]
    list_select_related = ["clinic"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    raw_id_fields = ["user", "enrolled_by"]
    inlines = [ReminderPreferenceInline]
    audit_patient = "id"


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    """Read-only: codes are issued through the API, and only their digest is stored."""

    list_display = ["patient", "created_at", "expires_at", "used_at"]
    list_select_related = ["patient"]
    search_fields = ["patient__email", "patient__last_name"]
    readonly_fields = ["patient", "code_digest", "expires_at", "used_at", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
