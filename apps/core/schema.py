"""Teach drf-spectacular how each authentication class sends its credential."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

BEARER = {"type": "http", "scheme": "bearer"}


class SessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.SessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {**BEARER, "description": "Session token from POST /api/auth/login"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.apikeys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {**BEARER, "description": "API key si_… from POST /api/v1/api-keys"}


class ApiTokenHeaderScheme(OpenApiAuthenticationExtension):
    target_class = "apps.compat.authentication.ApiTokenHeaderAuthentication"
    name = "apiTokenHeader"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Token",
            "description": "An API key si_… in X-Api-Token (Jellyfin AI service clients)",
        }


class BasicApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.compat.authentication.BasicApiKeyAuthentication"
    name = "basicApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic whose password is an API key si_… (A1111 --api-auth)",
        }


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.BrowserSessionAuthentication"
    name = "browserSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "pixelsmith_session",
            "description": "The browser UI's session cookie (unsafe methods need the CSRF token)",
        }
