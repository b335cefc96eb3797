"""Permission-table rows of ... (see tests/api/permission_kit.py)."""

from tests.api.permission_kit import Row

ROWS: dict[str, Row] = {}
