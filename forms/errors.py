"""The two ways the engine says no: a FieldError per wrong answer or definition part,
and FormDefinitionError when a caller compiles a definition that does not pass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    pointer: str  # RFC 6901, into the data or, for definitions, into {"schema": …, "ui": …}
    detail: str  # zh-CN, for the person who filled in or designed the form

    def as_api(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


class FormDefinitionError(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.pointer}: {e.detail}" for e in errors[:5]))
