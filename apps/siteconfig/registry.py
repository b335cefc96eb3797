"""The known runtime settings: default, how a submitted value is checked and normalised.

Values are stored as typed JSON (a list, a bool, a number) and read on every use, so a
change takes effect on the next request without a restart. Strings such as "true" or
'["resize"]' are accepted too, for clients that send every value as a string.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.memo import Memo
from apps.siteconfig.models import SiteSetting
from tools import registry as tool_registry


class SettingValueError(ValueError):
    """A submitted value does not fit the setting."""


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _tool_ids(value: Any) -> list[str]:
    value = _maybe_json(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingValueError("disabledTools must be a JSON array of tool ids")
    unknown = sorted({v for v in value if tool_registry.get(v) is None})
    if unknown:
        raise SettingValueError(f"Unknown tool id(s): {', '.join(unknown)}")
    return sorted(set(value))


def _boolean(value: Any) -> bool:
    value = _maybe_json(value)
    if not isinstance(value, bool):
        raise SettingValueError("Value must be true or false")
    return value


def _attempt_limit(value: Any) -> int:
    value = _maybe_json(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise SettingValueError("loginAttemptLimit must be an integer from 0 (off) to 1000")
    return value


@dataclass(frozen=True)
class KnownSetting:
    default: Callable[[], Any]
    parse: Callable[[Any], Any]
    writable: bool = True
    help: str = ""


KNOWN: dict[str, KnownSetting] = {
    "disabledTools": KnownSetting(list, _tool_ids, help="Tool ids that answer 403"),
    "enableExperimentalTools": KnownSetting(
        lambda: False, _boolean, help="Show experimental tools"
    ),
    "loginAttemptLimit": KnownSetting(
        lambda: settings.LOGIN_ATTEMPT_LIMIT, _attempt_limit, help="Failed logins before 429"
    ),
    "customLogo": KnownSetting(
        lambda: False, _boolean, writable=False, help="Managed by /api/v1/branding/logo"
    ),
}


def get_setting(key: str) -> Any:
    """The current value of a known setting (its default when never set)."""
    row = SiteSetting.objects.filter(key=key).values_list("value", flat=True).first()
    return KNOWN[key].default() if row is None else row


# Every tool call reads the settings (disabled tools): kept a few seconds (apps.core.memo);
# a change made in this process is seen at once, one made in another within seconds.
STORED: Memo[dict[str, Any]] = Memo()
STORED.forget_on(SiteSetting)


def all_settings() -> dict[str, Any]:
    stored = STORED.get("all", lambda: dict(SiteSetting.objects.values_list("key", "value"))) or {}
    return {key: stored.get(key, known.default()) for key, known in KNOWN.items()}


def set_setting(key: str, value: Any) -> Any:
    """Store a setting's normalised value (callers check `writable` and the key)."""
    SiteSetting.objects.update_or_create(key=key, defaults={"value": value})
    return value
