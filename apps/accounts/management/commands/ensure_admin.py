"""Create the first admin on an empty install, and tidy expired auth records."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts import limiter
from apps.accounts.models import ROLE_ADMIN, User
from apps.accounts.sessions import purge_expired
from apps.teams.models import Team


class Command(BaseCommand):
    help = "Create DEFAULT_USERNAME/DEFAULT_PASSWORD as admin when no user exists."

    def handle(self, *args: Any, **options: Any) -> None:
        purge_expired()
        limiter.purge_old()
        if User.objects.exists():
            return
        user = User(
            username=settings.DEFAULT_USERNAME,
            role=ROLE_ADMIN,
            team=Team.default(),
            must_change_password=True,
        )
        # The documented first login (admin/admin) is weak on purpose: it is flagged
        # must-change-password, so validators are not applied here.
        user.set_password(settings.DEFAULT_PASSWORD)
        user.save()
        self.stdout.write(
            f"Created admin '{user.username}' (password from DEFAULT_PASSWORD; "
            "change it at first login)"
        )
