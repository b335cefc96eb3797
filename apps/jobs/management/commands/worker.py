"""`manage.py worker`: the job worker (django-q2's cluster in fewer processes).

What `make run` and docker compose start; `manage.py qcluster` (django-q2's own) still
works and serves the same queues. Q_CLUSTER_NAME=gpu picks the GPU queue, as for qcluster.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the job worker of Q_CLUSTER_NAME's queue (cpu unless set) until TERM or Ctrl-C."

    def handle(self, *args: Any, **options: Any) -> None:
        from apps.jobs import cluster  # imports django_q.cluster, which needs Django set up

        settings.SECRET_KEY  # noqa: B018  (tasks are signed with it: fail now, not per task)
        cluster.run()
