"""OpenAPI responses of the one error shape, for the compatibility APIs' views.

The `Error` component ({error, code}) is added by apps.toolsapi.openapi's post-processing
hook; these responses refer to it and say what each status means on that route.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

ERROR = {"$ref": "#/components/schemas/Error"}


def error_responses(*answers: tuple[int, str]) -> dict[int, OpenApiResponse]:
    """{status: the error shape, described} for each (status, what it means here)."""
    return {status: OpenApiResponse(ERROR, description=text) for status, text in answers}
