"""DRF authentication by session bearer token or by the browser's session cookie, and the
signed-in user of a request."""

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
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


# The Django session key that holds a browser's AuthSession token (set by the sign-in page).
BROWSER_TOKEN_KEY = "pixelsmith_token"  # noqa: S105 (a dict key, not a secret)


def browser_session(request: HttpRequest) -> AuthSession | None:
    """The live AuthSession behind a browser's session cookie, or None. The browser holds
    only Django's session id; the token stays on the server, so signing out, a password
    change or an expired session ends the browser's access exactly as it ends a token's."""
    store = getattr(request, "session", None)
    token = store.get(BROWSER_TOKEN_KEY) if store is not None else None
    if not token:
        return None
    session = find_session(token)
    if session is None or not session.user.is_active:
        return None
    return session


class BrowserSessionAuthentication(BaseAuthentication):
    """The web UI's requests: Django's session cookie, with Django's CSRF check on every
    unsafe method (the bearer and API-key classes come first, so a script's header wins)."""

    def authenticate(self, request: Request) -> tuple[User, AuthSession] | None:
        session = browser_session(request._request)
        if session is None:
            return None
        self.enforce_csrf(request)
        require_password_changed(request, session.user)
        return session.user, session

    def enforce_csrf(self, request: Request) -> None:
        check = CSRFCheck(lambda _request: None)  # type: ignore[arg-type]
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise PermissionDenied(f"CSRF failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
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
