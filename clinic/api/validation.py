"""Strict input fields and error shaping shared by the apps' serializers and views."""

import re
from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation


# Refuses keys the serializer does not accept, rather than silently dropping them: a typo
# such as `red_flag` for `red_flags` must not make a clinical report vanish. (A comment, not
# a docstring, so it does not become the description of every schema component.)
class StrictSerializerMixin:
    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This field is unknown or cannot be set here."] for key in unknown}
                )
        return super().to_internal_value(data)


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must carry its UTC offset (a bare local time is ambiguous)."""

    default_error_messages = {
        "naive": "Include the UTC offset, e.g. 2026-03-01T07:05:00+01:00.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


ISO_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class LocalDateField(serializers.DateField):
    """A `YYYY-MM-DD` date a clinic could mean. Dates at the edges of the calendar (year 1,
    year 9999) would overflow the day arithmetic and the conversion to instants."""

    first = date(1900, 1, 1)
    last = date(2999, 12, 31)
    default_error_messages = {
        "out_of_range": f"Use a date between {first.isoformat()} and {last.isoformat()}.",
        "no_such_date": "{value} is not a valid date.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["iso-8601"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        # 2026-02-30 is written the right way but names no day: say that, not "wrong format".
        if isinstance(value, str) and ISO_DATE_SHAPE.fullmatch(value):
            try:
                date.fromisoformat(value)
            except ValueError:
                self.fail("no_such_date", value=value)
        parsed = super().to_internal_value(value)
        if not self.first <= parsed <= self.last:
            self.fail("out_of_range")
        return parsed


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A query filter on an object's id: a whole number that fits the id column. A number
    such as `1e48` would otherwise reach the database and overflow its integers."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class TrueFalseFilter(django_filters.ChoiceFilter):
    """A query filter that is `true` or `false`. django-filter's BooleanFilter reads any
    other value as "not given" and silently answers everything; this one answers 400."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return super().filter(qs, value == "true")


class LocalDateRangeForm(forms.Form):
    """The form behind a filter set with `from` and `to`: a range that ends before it
    begins is a mistake worth saying, not an empty page."""

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first and last and first > last:
            self.add_error("from", "`from` must not be after `to`.")
        return data


class LocalDateRangeQuery(serializers.Serializer):
    """`from` and `to` query parameters, inclusive local dates, both optional. `from` is a
    Python keyword, so the fields cannot be declared in the class body; subclasses add
    their rules in `validate`."""

    def get_fields(self):
        return {
            "from": LocalDateField(required=False),
            "to": LocalDateField(required=False),
        }


def with_local_date_range(filterset: type[django_filters.FilterSet], field_name: str):
    """Adds `from` and `to` (inclusive local dates) to a filter set; `from` is a Python
    keyword, so they cannot be declared in the class body."""
    for name, lookup, label in (("from", "gte", "First"), ("to", "lte", "Last")):
        filterset.base_filters[name] = django_filters.DateFilter(
            field_name=field_name,
            lookup_expr=lookup,
            input_formats=["%Y-%m-%d"],
            label=f"{label} local date, both ends included (YYYY-MM-DD)",
        )
    filterset._meta.form = LocalDateRangeForm
    return filterset


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer; `5.0`, `"5"` and `true` are refused instead of coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean; `"yes"` or `1` are refused instead of coerced."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictFormatNegotiation(DefaultContentNegotiation):
    """`?format=` wins over the Accept header (a browser or a client library sends one of
    its own); naming no renderer it is bad input (400 naming it), not a missing page.

    DRF negotiates before it authenticates; when negotiation fails, the caller's
    credentials and role are checked first, so an anonymous caller learns it needs to sign
    in (401) rather than which formats exist."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            format = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            if format:
                renderer = self.filter_renderers(renderers, format)[0]
                return renderer, renderer.media_type
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.APIException:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if view is not None:
                view.perform_authentication(request)
                view.check_permissions(request)
            raise

    def filter_renderers(self, renderers, format):
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            choices = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise exceptions.ValidationError({"format": [f"Choose one of: {choices}."]}) from None


class InvalidState(exceptions.APIException):
    """The object cannot take this action in its current state (e.g. pausing a paused one)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This action is not possible in the current state."
    default_code = "invalid_state"


def as_api_error(error: DjangoValidationError) -> exceptions.APIException:
    """Shapes a service's validation error as DRF would: per field, or a plain detail."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return InvalidState(detail=" ".join(error.messages))
