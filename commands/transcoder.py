"""Event payloads in the eventsourcing library's own JSON shape (a registered type's value is
`{"_type_": name, "_data_": data}`), written and read with msgspec: the library's transcoder
calls back into Python for every such value and every JSON object, a quarter of a session
batch's and of a rebuild's time. Events stored by the library's transcoder read the same."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError


class FastDecodingJSONTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return msgspec.json.encode(self._wrap(obj))

    def _wrap(self, value: Any) -> Any:
        """Values JSON has kept as they are; a registered type's as the library writes it."""
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None or kind is float:
            return value
        if kind is dict:
            return {key: self._wrap(item) for key, item in value.items()}
        if kind is list or kind is tuple:
            return [self._wrap(item) for item in value]
        try:
            transcoding = self.types[kind]
        except KeyError:
            raise TranscodingNotRegisteredError(
                f"Object of type {kind} is not serializable; register a transcoding for it"
            ) from None
        return {"_type_": transcoding.name, "_data_": self._wrap(transcoding.encode(value))}

    def decode(self, data: bytes) -> Any:
        return self._revive(msgspec.json.decode(data))

    def _revive(self, value: Any) -> Any:
        """As the library's object hook: inner objects first, then each object by the same rule
        (`{"_type_": name, "_data_": data}` is a registered type's value)."""
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)
            return value
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
