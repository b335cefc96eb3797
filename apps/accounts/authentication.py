"""DRF authentication by session bearer token, and the signed-in user of a request."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from apps.accounts.models import AuthSession, User
from apps.accounts.sessions import find_session
from apps.core.tokens import bearer_token


class SessionTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <session token>`; API keys (`si_…`) are left to their class."""

    def authenticate(self, request: Request) -> tuple[User, AuthSession] | None:
        token = bearer_token(request)
        if token is None or token.startswith("si_"):
            return None
        session = find_session(token)
        if session is None or not session.user.is_active:
            raise AuthenticationFailed("Session expired or invalid")
        require_password_changed(request, session.user)
        return session.user, session

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests.
        return 'Bearer realm="pixelsmith"'


def require_password_changed(request: Request, user: User) -> None:
    """A user whose password must be changed (the first admin's admin/admin, a password an
    admin set) may only read the session, change the password and sign out: anything else
    is 403 PASSWORD_CHANGE_REQUIRED, so clients know what to do. Views opt out with
    `allowed_before_password_change = True`."""
    if not user.must_change_password:
        return
    view = (request.parser_context or {}).get("view")
    if getattr(view, "allowed_before_password_change", False):
        return
    # Imported here: apps.core.errors imports DRF's views, which load this module.
    from apps.core.errors import ApiError

    raise ApiError(
        403,
        "PASSWORD_CHANGE_REQUIRED",
        "Choose a new password first: POST /api/auth/change-password",
    )


def signed_in_user(request: Request) -> User:
    """The request's user, for views whose permission class already required sign-in."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
