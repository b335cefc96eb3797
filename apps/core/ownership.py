"""Who may see a row: written once, used for jobs, library files, pipelines and API keys.

Admins see every row; users their own; anonymous callers (AUTH_ENABLED=false) the rows
that belong to nobody, which is where their own work is kept. Another user's row is
then simply not found (404), so its existence is not disclosed.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.db import models

ADMIN_ROLE = "admin"
_M = TypeVar("_M", bound=models.Model)


def is_admin_user(user: Any) -> bool:
    signed_in = user is not None and user.is_authenticated
    return bool(signed_in and getattr(user, "role", "") == ADMIN_ROLE)


def owner_of(user: Any) -> Any:
    """The owner a new row gets: the signed-in user, or nobody for an anonymous caller."""
    return user if user is not None and user.is_authenticated else None


class OwnedQuerySet(models.QuerySet[_M]):
    """A queryset of rows owned through `owner_field` (a foreign key to the user)."""

    owner_field = "owner"

    def visible_to(self, user: Any) -> Self:
        if is_admin_user(user):
            return self.all()
        if user is not None and user.is_authenticated:
            return self.filter(**{self.owner_field: user})
        return self.filter(**{f"{self.owner_field}__isnull": True})


class UserOwnedQuerySet(OwnedQuerySet[_M]):
    """For rows whose owner field is called `user` (API keys)."""

    owner_field = "user"
