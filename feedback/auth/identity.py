"""The authenticated principal as a plain value, so guards never touch a lazy ORM object."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from feedback.auth.models import Role, User


@dataclass(frozen=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    unit_ids: frozenset[uuid.UUID]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def can_access_unit(self, unit_id: uuid.UUID) -> bool:
        """Admins see every unit; everyone else only the units they are members of."""
        return self.is_admin or unit_id in self.unit_ids

    @classmethod
    def from_user(cls, user: User) -> CurrentUser:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            unit_ids=user.unit_ids,
        )
