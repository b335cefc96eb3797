"""Signals other apps listen to, so that the library never imports them.

`file_created` is sent after new library files are stored (an upload), with `file` (the
StoredFile). `file_deleted` is sent after a file and its versions are deleted, with
`file` (the StoredFile as it was; its pk is gone) and `file_id`. Both are sent outside
any transaction of the library's, with `send_robust`: a failing receiver is logged and
never fails the upload or the deletion.
"""

from django.dispatch import Signal

file_created = Signal()
file_deleted = Signal()
