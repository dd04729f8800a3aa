"""What every API view gets from the REST framework settings, whatever its parsers and serializers.

- ``ContentNegotiation`` refuses, with a 400 naming the fields, a request body holding text no
  database here can store: a NUL character (PostgreSQL refuses it in text columns) or half of a
  UTF-16 surrogate pair (a JSON string may carry ``"\\ud800"``; no database can encode it).
  Checking the parsed body, before any view sees it, covers every view and every field type
  alike, so such a request changes nothing instead of failing inside a transaction.
- ``OPTIONS`` works on every view, in JSON: ``Metadata`` describes a body only where the view
  names its serializer (most here check their input with a serializer per method; the OpenAPI
  schema describes every body).
- The rate limits (``AnonRateThrottle``, ``UserRateThrottle``) keep their log of request times
  compactly in the shared cache.
"""

from __future__ import annotations

import re
from array import array

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, throttling
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import DataAndFiles
from rest_framework.renderers import JSONRenderer

UNSTORABLE_TEXT = "Remove the NUL or unpaired surrogate character: this text cannot be stored."
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """Whether every database this project runs on can store ``text``."""
    return _UNSTORABLE.search(text) is None


def unstorable_fields(data) -> dict[str, list[str]]:
    """The fields of parsed request ``data`` whose text cannot be stored, named as errors are.

    Nested names join with dots (``feedback.comment``, ``payments.0.amount``), as the error
    shape names them; a bad key is reported on the object holding it, never echoed back.
    """
    found: dict[str, list[str]] = {}
    pending = [("", data)]
    while pending:  # a loop, not recursion: a body may nest as deep as its parser allows
        at, value = pending.pop()
        here = at or "non_field_errors"
        if isinstance(value, MultiValueDict):
            items = [(key, vs[0] if len(vs) == 1 else vs) for key, vs in value.lists()]
        elif isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        else:
            text = (value.name or "") if isinstance(value, UploadedFile) else value
            if isinstance(text, str) and not is_storable(text):
                found[here] = [UNSTORABLE_TEXT]
            continue
        for key, sub in items:
            if isinstance(key, str) and not is_storable(key):
                found[here] = [UNSTORABLE_TEXT]
            else:
                pending.append((f"{at}.{key}" if at else str(key), sub))
    return dict(sorted(found.items()))


class _StorableTextParser:
    """The parser the negotiation chose, refusing what it parsed if some text cannot be stored."""

    def __init__(self, parser):
        self.parser = parser
        self.media_type = parser.media_type

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = self.parser.parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("The body is nested too deeply.") from None
        if isinstance(parsed, DataAndFiles):
            fields = {**unstorable_fields(parsed.data), **unstorable_fields(parsed.files)}
        else:
            fields = unstorable_fields(parsed)
        if fields:
            raise exceptions.ValidationError(fields, code="unstorable_text")
        return parsed


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with every body checked for text that cannot be stored, and every
    ``OPTIONS`` answered in JSON (the docs page renders only its HTML template)."""

    def select_parser(self, request, parsers):
        parser = super().select_parser(request, parsers)
        return None if parser is None else _StorableTextParser(parser)

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.method == "OPTIONS":
            return JSONRenderer(), JSONRenderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class Metadata(SimpleMetadata):
    """DRF's ``OPTIONS`` answer, describing a body only where the view names its serializer."""

    def determine_actions(self, request, view):
        # Imported here: the REST framework reads this module's classes while defining its views.
        from rest_framework.generics import GenericAPIView

        declared = getattr(view, "serializer_class", None) is not None or (
            type(view).get_serializer_class is not GenericAPIView.get_serializer_class
        )
        return super().determine_actions(request, view) if declared else {}


# --- Rate limits ---------------------------------------------------------------------------


class _CompactHistory:
    """The REST framework's rate limit, its log of request times kept as an array of floats.

    The limit keeps, per user or address, the time of every request of the last period, read
    and written back in the shared cache at each request. As a list, a busy client's thousand
    times cost a pickled float object each, both ways; as ``array("d")`` they are one block of
    bytes. What is counted, and when a client is refused, do not change.
    """

    def throttle_success(self):
        history = self.history if isinstance(self.history, array) else array("d", self.history)
        history.insert(0, self.now)
        self.history = history
        self.cache.set(self.key, history, self.duration)
        return True


class AnonRateThrottle(_CompactHistory, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CompactHistory, throttling.UserRateThrottle):
    pass
