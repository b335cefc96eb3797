"""Sign-in, sign-out and the password change, as plain HTML forms (they work without
JavaScript). They use the same services as /api/auth: one limiter, one password policy."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.authentication import BROWSER_TOKEN_KEY
from apps.accounts.services import change_password, sign_in
from apps.core.errors import ApiError
from apps.core.tokens import client_ip
from apps.web.access import web_session

FIELD_MAX = 1024  # as the API's serializers: no password hashing of megabyte strings


def next_url(request: HttpRequest, default: str = "/") -> str:
    """The page to go back to after signing in: same-site paths only."""
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if not settings.AUTH_ENABLED or web_session(request) is not None:
        return redirect(next_url(request))
    target = next_url(request)
    context: dict[str, str | None] = {"next": target, "username": "", "error": None}
    if request.method == "GET":
        return render(request, "web/login.html", context)
    username = request.POST.get("username", "").strip()[:150]
    password = request.POST.get("password", "")[:FIELD_MAX]
    context["username"] = username
    if not username or not password:
        context["error"] = _("Enter your username and password.")
        return render(request, "web/login.html", context, status=400)
    try:
        token, session = sign_in(
            username, password, client_ip(request), request.META.get("HTTP_USER_AGENT", "")
        )
    except ApiError as exc:
        if exc.code == "LOGIN_THROTTLED":
            context["error"] = _("Too many failed attempts. Try again in a few minutes.")
        else:
            context["error"] = _("Invalid username or password.")
        return render(request, "web/login.html", context, status=exc.status_code)
    request.session.cycle_key()  # no session fixation: a new id for the signed-in session
    request.session[BROWSER_TOKEN_KEY] = token
    if session.user.must_change_password:
        return redirect(f"/password?next={target}")
    return redirect(target)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session = web_session(request)
    if session is not None:
        session.delete()
    request.session.flush()
    return redirect(settings.LOGIN_URL)


@require_http_methods(["GET", "POST"])
def password(request: HttpRequest) -> HttpResponse:
    """Change one's own password; forced after the first sign-in or an admin's reset."""
    session = web_session(request)
    if session is None:
        return redirect(settings.LOGIN_URL)
    user = session.user
    target = next_url(request)
    context = {"next": target, "forced": user.must_change_password, "error": None}
    if request.method == "GET":
        return render(request, "web/password.html", context)
    current = request.POST.get("current_password", "")[:FIELD_MAX]
    new = request.POST.get("new_password", "")[:FIELD_MAX]
    if new != request.POST.get("confirm_password", "")[:FIELD_MAX]:
        context["error"] = _("The two new passwords differ.")
        return render(request, "web/password.html", context, status=400)
    try:
        change_password(user, current, new, keep=session)
    except ApiError as exc:
        context["error"] = exc.message
        return render(request, "web/password.html", context, status=exc.status_code)
    return redirect(target if target != "/password" else "/")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a stale or missing CSRF token (a page left open across sign-ins)."""
    return render(request, "web/csrf_failure.html", status=403)
