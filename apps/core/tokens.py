"""Bearer-token helpers shared by sessions and API keys."""

import hashlib
import ipaddress

from django.http import HttpRequest
from rest_framework.request import Request


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_ip(request: Request | HttpRequest) -> str | None:
    """The peer address; behind a proxy, uvicorn's --proxy-headers sets it from X-Forwarded-For."""
    value = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:  # a unix socket path or a junk forwarded header: no usable address
        return None
