"""Who is asking: the authenticated user, the address the request came from, and what they may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from server.models import User


@dataclass
class Caller:
    user: User
    address: str
    token_id: uuid.UUID | None = None
    _scope: object | None = field(default=None, repr=False)

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def is_authenticated(self) -> bool:  # Starlette's request.user protocol
        return True
