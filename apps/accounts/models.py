"""Users with a role, their bearer-token sessions, and failed-login records."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

ROLE_ADMIN = "admin"
ROLE_USER = "user"
ROLES = [(ROLE_ADMIN, "Admin"), (ROLE_USER, "User")]

username_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{1,50}$",
    "Username must be 1-50 characters: letters, digits, '.', '-' or '_'",
)


class User(AbstractUser):
    """A Pixelsmith account. `role` decides permissions; Django's staff flags are unused."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=50, unique=True, validators=[username_validator])
    role = models.CharField(max_length=10, choices=ROLES, default=ROLE_USER)
    team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, related_name="members", null=True, blank=True
    )
    must_change_password = models.BooleanField(default=False)

    class Meta:
        ordering = ["username"]

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


class AuthSession(models.Model):
    """A login session. Only the SHA-256 of its bearer token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    is_api_key = False

    def __str__(self) -> str:
        return f"session of {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """One failed login, kept for the cool-down window of the login limiter."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"failed login {self.username} from {self.ip}"
