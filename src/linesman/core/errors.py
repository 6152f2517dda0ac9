"""API error types beyond DRF's own, and the handler that renders every error as JSON."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class _StructuredError(APIException):
    """An error whose dict body keeps its values' JSON types (DRF stringifies them all).

    `Conflict({"detail": "...", "ids": [3, 7]})` answers `"ids": [3, 7]`, not `["3", "7"]`.
    """

    def __init__(self, detail=None, code=None):
        super().__init__(detail, code)
        self.payload = detail if isinstance(detail, dict) else None


class Conflict(_StructuredError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(_StructuredError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but cannot be applied."
    default_code = "unprocessable"


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The device cannot be reached."
    default_code = "unavailable"


def exception_handler(exc, context):
    """DRF's handler, plus model validation errors as 400 and integrity races as 409."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": "The change conflicts with existing data (a unique value is taken)."},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and getattr(exc, "payload", None) is not None:
        response.data = exc.payload
    return response
