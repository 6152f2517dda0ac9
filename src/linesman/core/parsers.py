"""The API's request body parsers: DRF's, plus the text check of `core.textcheck`.

Every string of a body (JSON keys and values, form fields) must be something XML 1.0 can
carry, because any stored value may later travel to a device in a SOAP envelope; JSON can
also smuggle lone surrogates (`"\\ud800"`), which no encoder can write back out, so the
rows they reach break every later read. Either is a 400 naming the field, before a view
sees the body.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers

from linesman.core import textcheck


def _form_fields(query_dict) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in query_dict:
        values = query_dict.getlist(key)
        fields[key] = values[0] if len(values) == 1 else values
    return fields


class JSONParser(parsers.JSONParser):
    """JSON (NaN and Infinity refused, as DRF does) whose strings can all travel in XML."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        textcheck.refuse(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        textcheck.refuse(_form_fields(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Multipart forms: the text fields are checked; uploaded files are bytes, not text."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        textcheck.refuse(_form_fields(result.data))
        for name in result.files:
            for upload in result.files.getlist(name):
                if upload.name:
                    textcheck.refuse({name: upload.name})
        return result
