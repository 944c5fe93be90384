"""The clinic's event feed (`events/?after=`), for systems that poll rather than receive
webhooks: what happened, in the order it was written, ids only."""

from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from clinic import events
from clinic.audit import audit_record
from clinic.models import Event
from clinic.permissions import CLINIC_TEAM, RolePermission


class EventSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=events.Type.choices)
    data = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Ids only: `patient`, `prescription`, `check_in`, `alert`, `reminder`…",
    )

    class Meta:
        model = Event
        fields = ["id", "type", "at", "data"]


def _whole(request, name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or (high is not None and int(raw) > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ValidationError({name: [f"A whole number {bound}."]})
    return max(int(raw), low)


class AfterPagination(BasePagination):
    """`after` an event id (0, the default, is before the first; read by the view's
    queryset), `page_size` events at most (default 100): the next events in the feed's
    order, and the `next` link that continues after the last one (null when there was
    nothing more)."""

    page_size = 100
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = _whole(request, "page_size", self.page_size, low=1, high=self.max_page_size)
        # The queryset starts after the cursor already (clinic.events.after keeps the order).
        rows = list(queryset[: self.size + 1])
        self.more = len(rows) > self.size
        return rows[: self.size]

    def get_paginated_response(self, data):
        next_url = None
        if self.more:
            query = {"after": data[-1]["id"], "page_size": self.size}
            next_url = self.request.build_absolute_uri(f"{self.request.path}?{urlencode(query)}")
        return Response({"next": next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return []  # declared on the view (extend_schema), with their descriptions


class EventList(generics.ListAPIView):
    """The clinic's events in the order they were written, after the cursor `after` (an
    event id): each `{id, type, at, data}`, `data` holding ids only. Poll with the last id
    seen, or follow `next`. An event appears once every change that could come before it
    has committed or rolled back, so a poll never skips one that commits later; ids grow
    in that order, except that one written by a change that began earlier may follow a
    higher id."""

    permission_classes = [RolePermission]
    read_roles = CLINIC_TEAM
    serializer_class = EventSerializer
    pagination_class = AfterPagination
    filter_backends = []

    def get_queryset(self):
        return events.after(
            clinic_id=getattr(self.request.user, "clinic_id", None),
            cursor=_whole(self.request, "after", 0, low=0),
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        # An event says that something happened to these patients: a read of their record.
        audit_record(
            self.request,
            patients=sorted({e.data["patient"] for e in page if e.data.get("patient")}),
        )
        return page

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, description="An event id: the events after it."
            ),
            OpenApiParameter(
                "page_size", OpenApiTypes.INT, description="At most this many (1 to 500)."
            ),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
