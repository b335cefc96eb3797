"""Signed progress URLs, for clients that cannot send a credential header with a GET
(a script's plain HTTP client, a media player, an EventSource on another origin).

`GET /api/v1/jobs/<id>/progress?sig=…` streams that one job's progress, nothing else: the
signature names the job and is accepted for PROGRESS_LINK_TTL_S seconds after it was
issued (a stream opened in time runs until the job ends). Links come with every job
answer (`signedProgressUrl`), so a client that can authenticate once can hand one on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing

SALT = "pixelsmith.jobs.progress"  # a signature made for anything else never fits here


def signed_progress_url(job_id: Any) -> str:
    token = signing.dumps({"job": str(job_id)}, salt=SALT)
    return f"/api/v1/jobs/{job_id}/progress?sig={token}"


def signature_fits(token: str, job_id: Any) -> bool:
    """Whether `token` was signed here, for this job, within PROGRESS_LINK_TTL_S."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PROGRESS_LINK_TTL_S)
    except signing.BadSignature:  # tampered, foreign or expired (SignatureExpired)
        return False
    return isinstance(data, dict) and data.get("job") == str(job_id)
