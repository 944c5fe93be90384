from django.contrib import admin

from clinic import events
from clinic.audit import AuditedAdmin
from prescriptions.models import (
    Alert,
    CheckIn,
    IdempotencyRecord,
    Prescription,
    PrescriptionSlot,
    Protocol,
    Reminder,
    StatusChange,
)


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "version"]
    search_fields = ["slug", "name"]


class SlotInline(admin.TabularInline):
    model = PrescriptionSlot
    extra = 0
    readonly_fields = ["next_fire_at"]


class StatusChangeInline(admin.TabularInline):
    """The history is what adherence is computed from: read it here, change it via the API."""

    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["status", "effective_at", "recorded_by", "reason", "recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Prescription)
class PrescriptionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["id", "patient", "protocol", "status", "start_date", "end_date", "clinician"]
    list_filter = ["status", "protocol", "patient__clinic"]
    list_select_related = ["patient", "protocol", "clinician"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    raw_id_fields = ["patient", "clinician"]
    # Status moves through pause / resume / end so that the history stays whole; how far
    # the ledger is written is the ledger's own bookkeeping.
    readonly_fields = ["status", "ledger_until"]
    inlines = [SlotInline, StatusChangeInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A change of the plan made here is one like any other (in the admin's transaction):
        # the clinic's systems hear it, and the patient's stored clinic row is outdated.
        if form.has_changed() or any(formset.has_changed() for formset in formsets):
            prescription = form.instance
            type = events.Type.PRESCRIPTION_CHANGED if change else events.Type.PRESCRIPTION_CREATED
            events.record(
                type,
                clinic_id=prescription.patient.clinic_id,
                patient=prescription.patient_id,
                prescription=prescription.id,
            )


class RecordAdmin(AuditedAdmin, admin.ModelAdmin):
    """What happened, as it was recorded: readable here (each opening is audited), never
    added, changed or deleted, since that would falsify the patient's record (the services
    the API and the pages call are the only writers)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CheckIn)
class CheckInAdmin(RecordAdmin):
    list_display = ["id", "patient", "slot", "local_date", "pain_before", "pain_after", "red_flags"]
    list_filter = ["slot", "heat_used", "patient__clinic"]
    list_select_related = ["patient"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email", "notes"]
    date_hierarchy = "local_date"


@admin.register(Alert)
class AlertAdmin(RecordAdmin):
    list_display = ["id", "patient", "kind", "created_at", "acknowledged_at", "acknowledged_by"]
    list_filter = ["kind", ("acknowledged_at", admin.EmptyFieldListFilter), "patient__clinic"]
    list_select_related = ["patient", "acknowledged_by"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email", "note"]
    date_hierarchy = "created_at"


@admin.register(Reminder)
class ReminderAdmin(RecordAdmin):
    list_display = ["id", "patient", "slot", "local_date", "fire_at", "channel", "status", "reason"]
    list_filter = ["status", "channel", "slot", "prescription__patient__clinic"]
    list_select_related = ["prescription__patient"]
    search_fields = ["prescription__patient__email", "prescription__patient__last_name", "reason"]
    date_hierarchy = "local_date"
    audit_patient = "prescription.patient_id"

    @admin.display(ordering="prescription__patient__last_name")
    def patient(self, reminder):
        return reminder.prescription.patient


@admin.register(StatusChange)
class StatusChangeAdmin(RecordAdmin):
    list_display = ["id", "prescription", "status", "effective_at", "recorded_by", "reason"]
    list_filter = ["status", "prescription__patient__clinic"]
    list_select_related = ["prescription__protocol", "prescription", "recorded_by"]
    search_fields = [
        "prescription__patient__last_name",
        "prescription__patient__email",
        "reason",
    ]
    date_hierarchy = "effective_at"
    audit_patient = "prescription.patient_id"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "key", "response_status", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "key"]
    raw_id_fields = ["user"]
