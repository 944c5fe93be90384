from django.contrib import admin

from outcomes.models import Questionnaire, QuestionnaireResponse
from prescriptions.admin import RecordAdmin


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    """Read here; loaded by `manage.py load_questionnaire`, which checks a definition whole
    and keeps a version that scored responses (an edit here would do neither)."""

    list_display = ["slug", "name", "version", "scoring_method", "higher_is_better", "mcid"]
    search_fields = ["slug", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(RecordAdmin):
    list_display = ["id", "patient", "questionnaire", "answered_at", "score"]
    list_filter = ["questionnaire", "patient__clinic"]
    list_select_related = ["patient", "questionnaire"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    date_hierarchy = "answered_at"
