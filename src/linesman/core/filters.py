"""Filter-set pieces shared by the API's list endpoints."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from linesman.core import textcheck


class IdField(forms.Field):
    """An id from the query string: ASCII digits within the database's 64-bit range.

    django-filter's NumberFilter takes "1e20" and "٣" as numbers and hands the database
    values it cannot bind (a 500); this answers a 400 naming the parameter.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = textcheck.parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError(
                f"An id is required: digits 0-9, at most {textcheck.MAX_ID}.", code="invalid"
            )
        return number


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.Filter):
    """`?name=N` for an id (a primary or foreign key); see IdField."""

    field_class = IdField
