"""Signals other apps listen to, so that jobs never imports them (webhooks sits above).

`job_finished` is sent once a job reaches a terminal state (completed, failed,
cancelled), after its row says so, with `job` (the Job). Receivers must be quick (no
network): it is sent from the worker running the job. Sent with `send_robust`, so a
failing receiver is logged and never changes how the job ended.
"""

from django.dispatch import Signal

job_finished = Signal()
