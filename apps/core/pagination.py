"""One pagination style for every list: `?page=1&pageSize=50` in, `page`, `pageSize`,
`total` and `totalPages` out (beside the list itself)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from apps.core.errors import ApiError

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # bounds the SQL OFFSET (SQLite refuses integers over 64 bits)


def int_param(
    request: Request, name: str, default: int, low: int | None = None, high: int | None = None
) -> int:
    """An integer query parameter within [low, high]; 400 VALIDATION_ERROR otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be between {low} and {high}")
    return value


def parameters(default_size: int) -> list[OpenApiParameter]:
    """The OpenAPI description of `page` and `pageSize`."""
    return [
        OpenApiParameter("page", int, description="1-based, default 1"),
        OpenApiParameter("pageSize", int, description=f"1-{MAX_PAGE_SIZE}, default {default_size}"),
    ]


def page_of(
    request: Request,
    rows: QuerySet[Any],
    key: str,
    serialize: Callable[[Any], dict[str, Any]],
    default_size: int = 50,
    size_alias: str | None = None,
) -> dict[str, Any]:
    """`{key: [...], page, pageSize, total, totalPages}` for one page of `rows`.
    `size_alias` names an older parameter still accepted for pageSize (jobs' `limit`)."""
    page = int_param(request, "page", 1, 1, MAX_PAGE)
    size = int_param(request, "pageSize", default_size, 1, MAX_PAGE_SIZE)
    if size_alias and "pageSize" not in request.query_params:
        size = int_param(request, size_alias, default_size, 1, MAX_PAGE_SIZE)
    total = rows.count()
    window = rows[(page - 1) * size : page * size]
    return {
        key: [serialize(row) for row in window],
        "page": page,
        "pageSize": size,
        "total": total,
        "totalPages": math.ceil(total / size),
    }
