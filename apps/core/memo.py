"""A few seconds' memory of rows that every request reads: its session or API key (with
the user), the site's runtime settings.

Each lookup costs a query, and building that query costs more CPU than the work of a
small resize (bench/http_compare.py, issue 14). A write in this process forgets at once
(the signals connected by `forget_on`); a write in another process (a second web worker,
the job worker) is seen within TTL_S. Callers get their own copy of what was kept, so one
request cannot change another's objects.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

TTL_S = 5.0
MAX_ENTRIES = 2048

T = TypeVar("T")


def row_copier(*related: str) -> Callable[[Any], Any]:
    """A copier for a model instance and the related rows it was loaded with
    (select_related names, such as "user" and "user__team"): shallow copies, each with
    its own field values, much cheaper than a deep copy."""

    def copy_row(row: Any) -> Any:
        clone = copy.copy(row)  # Django copies the instance's state and its related-row cache
        for path in related:
            *parents, name = path.split("__")
            holder = clone
            for parent in parents:
                holder = getattr(holder, parent)
            value = getattr(holder, name)
            if value is not None:
                setattr(holder, name, copy.copy(value))
        return clone

    return copy_row


class Memo(Generic[T]):
    """key -> value for TTL_S seconds; `None` values (nothing found) are not kept."""

    def __init__(self, ttl_s: float = TTL_S, copier: Callable[[T], T] = copy.deepcopy) -> None:
        self.ttl_s = ttl_s
        self.copier = copier
        self.entries: dict[Any, tuple[float, T]] = {}
        self.lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T | None]) -> T | None:
        if connection.in_atomic_block:  # what a transaction reads may yet be rolled back
            return load()
        now = time.monotonic()
        entry = self.entries.get(key)
        if entry is not None and entry[0] > now:
            return self.copier(entry[1])
        value = load()
        if value is not None:
            with self.lock:
                if len(self.entries) >= MAX_ENTRIES:
                    self.entries.clear()  # rare (that many live tokens in 5 s): start over
                self.entries[key] = (now + self.ttl_s, self.copier(value))
        return value

    def forget(self, key: Any) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.entries.clear()

    def changed(self, using: str | None = None, **_: Any) -> None:
        """A kept row changed (a signal receiver): forget now, and again when its
        transaction commits, since another thread may have kept the old row meanwhile."""
        self.clear()
        if transaction.get_connection(using).in_atomic_block:
            transaction.on_commit(self.clear, using=using)

    def forget_on(self, *models: type[Model]) -> None:
        """Forget everything whenever a row of these models is saved or deleted here."""
        for model in models:
            uid = f"memo-{id(self)}-{model._meta.label}"
            post_save.connect(self.changed, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(self.changed, sender=model, weak=False, dispatch_uid=uid)
