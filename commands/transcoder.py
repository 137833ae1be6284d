"""Event payloads read back with msgspec. What is stored is the eventsourcing library's own JSON,
written by its JSONTranscoder (so hash chains and every stored event are untouched); only
decoding is faster: the library's decoder calls back into Python for every JSON object, a
quarter of a read-model rebuild's time."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding


class FastDecodingJSONTranscoder(JSONTranscoder):
    def decode(self, data: bytes) -> Any:
        return self._revive(msgspec.json.decode(data))

    def _revive(self, value: Any) -> Any:
        """As the library's object hook: inner objects first, then each object by the same rule
        (`{"_type_": name, "_data_": data}` is a registered type's value)."""
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            return self._decode_obj(value)
        if type(value) is list:
            return [
                self._revive(item) if type(item) is dict or type(item) is list else item for item in value
            ]
        return value


class DataclassAsDict(Transcoding):
    """A frozen dataclass of the domain (a typed charge, a card, package terms) stored as its
    fields by name; nested values are transcoded by their own transcodings."""

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._fields = tuple(field.name for field in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)
