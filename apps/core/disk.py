"""Free space on the data disk: new work is refused (507) before the disk runs out.

A full disk would otherwise hit SQLite (and every request) before any job could fail
cleanly. MIN_FREE_DISK_MB of DATA_DIR's file system is kept free: below it, uploads,
tool calls, batches and pipelines answer 507 DISK_FULL, and workers do not start or
retry jobs. What is already running can still use the reserve to finish or fail.
"""

from __future__ import annotations

import shutil

from django.conf import settings

from apps.core.errors import ApiError

MB = 1024 * 1024


def free_mb() -> float:
    """Free space on DATA_DIR's file system, in MB (DATA_DIR is created if missing).
    One statvfs: every job and upload asks, and a mkdir each time cost more (issue 14)."""
    try:
        return shutil.disk_usage(settings.DATA_DIR).free / MB
    except FileNotFoundError:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(settings.DATA_DIR).free / MB


def low_on_space() -> bool:
    return bool(settings.MIN_FREE_DISK_MB) and free_mb() < settings.MIN_FREE_DISK_MB


def disk_full_error() -> ApiError:
    return ApiError(
        507,
        "DISK_FULL",
        f"The server's disk is nearly full (less than MIN_FREE_DISK_MB = "
        f"{settings.MIN_FREE_DISK_MB} MB free): new work is refused until space is freed",
    )


def require_free_space() -> None:
    """507 DISK_FULL when less than MIN_FREE_DISK_MB is free (0 turns the check off)."""
    if low_on_space():
        raise disk_full_error()
