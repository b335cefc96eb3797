"""Teams group users; every user belongs to one (the default team unless told)."""

import uuid

from django.db import models
from django.db.models.functions import Lower

DEFAULT_TEAM_NAME = "Default"


class Team(models.Model):
    """A named group of users. The default team always exists and cannot be deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=50)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="team_name_unique_ci"),
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_team"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> "Team":
        team, _ = cls.objects.get_or_create(is_default=True, defaults={"name": DEFAULT_TEAM_NAME})
        return team
