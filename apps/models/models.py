"""What each worker process has loaded, and the admins' unload requests, in the database.

Loaded models live in each worker process's memory, which the web process cannot see. So
every worker process writes what it holds (`WorkerModels`, one row per process) every
REPORT_S seconds and right after a load; the models API reads the rows seen lately. An
unload must reach every process, so it is a row (`UnloadRequest`) that each process's
reporter reads and acts on. This works with either broker and any number of hosts.
"""

from __future__ import annotations

from django.db import models


class WorkerModels(models.Model):
    worker = models.CharField(max_length=200, primary_key=True)  # "host:pid"
    queue = models.CharField(max_length=20)
    loaded = models.JSONField(default=list)  # ModelStore.loaded() entries
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker


class UnloadRequest(models.Model):
    model_id = models.CharField(max_length=100)
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"unload {self.model_id}"
