"""config.env: typed environment readers that fail loudly on bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

VAR = "PIXELSMITH_TEST_VARIABLE"


@pytest.fixture(autouse=True)
def _unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_falls_back_to_the_default_when_unset(default):
    assert env_bool(VAR, default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "yess", "tru"])
def test_env_bool_fails_loudly_on_anything_else(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_bool(VAR, False)


def test_env_int_reads_an_integer(monkeypatch):
    monkeypatch.setenv(VAR, " 42 ")
    assert env_int(VAR, 7) == 42


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_env_int_falls_back_to_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is not None:
        monkeypatch.setenv(VAR, raw)
    assert env_int(VAR, 7) == 7


@pytest.mark.parametrize("raw", ["abc", "1.5", "10MB", "0x10"])
def test_env_int_fails_loudly_on_a_non_integer(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=f"{VAR} must be an integer"):
        env_int(VAR, 7)


def test_env_int_fails_loudly_below_its_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "-1")
    with pytest.raises(ImproperlyConfigured, match=f"{VAR} must be at least 0"):
        env_int(VAR, 7, minimum=0)


def test_env_int_accepts_its_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "0")
    assert env_int(VAR, 7, minimum=0) == 0


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv(VAR, " a.example, b.example ,,")
    assert env_list(VAR, ["x"]) == ["a.example", "b.example"]
    monkeypatch.delenv(VAR)
    assert env_list(VAR, ["x"]) == ["x"]


def test_env_str_returns_the_raw_value_or_the_default(monkeypatch):
    assert env_str(VAR, "fallback") == "fallback"
    monkeypatch.setenv(VAR, "value")
    assert env_str(VAR, "fallback") == "value"


def test_env_choice_reads_one_of_its_choices_in_any_case(monkeypatch):
    monkeypatch.setenv(VAR, " S3 ")
    assert env_choice(VAR, "local", ("local", "s3")) == "s3"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_env_choice_falls_back_to_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is not None:
        monkeypatch.setenv(VAR, raw)
    assert env_choice(VAR, "local", ("local", "s3")) == "local"


def test_env_choice_fails_loudly_on_anything_else(monkeypatch):
    monkeypatch.setenv(VAR, "ftp")
    with pytest.raises(ImproperlyConfigured, match=f"{VAR} must be one of local, s3"):
        env_choice(VAR, "local", ("local", "s3"))
