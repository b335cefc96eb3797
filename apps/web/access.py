"""Who is looking at a page: the browser's signed-in user, and the page decorators that
send everyone else to the sign-in page (or, with a password to change, to that page)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.accounts.authentication import browser_session
from apps.accounts.models import AuthSession, User
from apps.core.ownership import is_admin_user

View = Callable[..., HttpResponse]
_UNSET = object()


def web_session(request: HttpRequest) -> AuthSession | None:
    """The request's AuthSession (looked up once per request)."""
    found = getattr(request, "_web_session", _UNSET)
    if found is _UNSET:
        found = browser_session(request)
        request._web_session = found  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


def web_user(request: HttpRequest) -> User | None:
    session = web_session(request)
    return session.user if session else None


def page(view: View | None = None, *, admin: bool = False) -> Any:
    """A page for signed-in users (anyone when AUTH_ENABLED=false); `admin=True`: admins only.
    A user who must change the password sees that page first, whatever was asked for."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = web_user(request)
            if user is None and settings.AUTH_ENABLED:
                return redirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
            if user is not None and user.must_change_password:
                return redirect(f"/password?next={quote(request.get_full_path())}")
            if admin and not is_admin_user(user):
                return render(request, "web/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
