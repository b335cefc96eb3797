"""`manage.py worker_alive`: exit 0 when a worker process on this host reported lately.

The container healthcheck of the workers (docker-compose.yml). Each worker process writes
what it has loaded every REPORT_S seconds (apps.models.runtime.Reporter); a process that
is stuck, cut off from the database or gone stops writing, and after SEEN_S the check
fails (exit 1), so the container shows as unhealthy.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.models.models import WorkerModels
from apps.models.runtime import SEEN_S


class Command(BaseCommand):
    help = "Exit 0 when a worker process on this host reported in the last minute."

    def handle(self, *args: Any, **options: Any) -> None:
        recent = timezone.now() - timedelta(seconds=SEEN_S)
        host = socket.gethostname()
        alive = WorkerModels.objects.filter(worker__startswith=f"{host}:", seen_at__gte=recent)
        count = alive.count()
        if not count:
            raise CommandError(f"no worker process on {host} reported in the last {SEEN_S} s")
        self.stdout.write(f"{count} worker process(es) on {host} alive")
