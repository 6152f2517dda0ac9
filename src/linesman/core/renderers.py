"""The API's JSON renderer: DRF's, able to answer for rows stored before input was checked.

A JSON column can hold a lone surrogate (`"\\ud800"` arrives escaped, is stored escaped,
and reads back as a Python string no encoder can write). The parsers refuse such input
now; rows written before that must not turn every list that shows them into a 500, so a
body that cannot be encoded is rendered again with U+FFFD in place of each lone surrogate.
The common case pays nothing: the fallback runs only after the encoder failed.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import renderers

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(data: Any) -> Any:
    if isinstance(data, str):
        return _LONE_SURROGATE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_replace_surrogates(v) for v in data]
    return data


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(_replace_surrogates(data), accepted_media_type, renderer_context)
