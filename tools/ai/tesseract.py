"""Tesseract (the Debian `tesseract` program, LSTM engine) for the ocr tool's fast tier.

Tesseract runs as a child process on a PNG we wrote (never on the upload itself, so its
own image decoders never see user files), with `-l <languages> --oem 1 --psm 3 tsv`:
LSTM recognition, automatic page segmentation, and the TSV renderer on stdout, parsed
here into lines of words with boxes and confidences (0..1; Tesseract says 0..100).

Safety and limits:
- The language is checked twice: the settings allow only letters, digits, "_" and "+",
  and each "+"-separated name must be one `tesseract --list-langs` lists (a few ISO
  codes are mapped: en -> eng, de -> deu, ...). Nothing unchecked reaches the command.
- Each run has a timeout (TIMEOUT_S, plus time per megapixel) and is killed on cancel.
- OMP_THREAD_LIMIT=1: Debian's build uses OpenMP, whose threads cost more than they
  give on one page (measured: 0.3 s instead of 1.1 s for a 1 MP page), and a worker
  runs several jobs at once anyway.
A missing program is 503 ENGINE_UNAVAILABLE with the command that installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tools.ai import engines, install
from tools.ai.credit import Run
from tools.base import Context, ToolError

TIMEOUT_S = 60.0  # per page, plus PER_MEGAPIXEL_S for each megapixel
PER_MEGAPIXEL_S = 10.0
_POLL_S = 0.25  # how often a running tesseract looks at the cancel flag
_LANGUAGE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
# `tesseract --list-langs` prints this before the names.
_LIST_HEADER = re.compile(r'List of available languages in "(?P<dir>[^"]+)"')
# Not recognition languages: orientation/script detection, and the legacy equation model.
_NOT_LANGUAGES = frozenset({"osd", "equ"})
# Common ISO 639-1 codes (and PP-OCR's names) for Tesseract's ISO 639-2 ones.
ALIASES = {
    "en": "eng",
    "de": "deu",
    "german": "deu",
    "fr": "fra",
    "french": "fra",
    "es": "spa",
    "it": "ita",
    "pt": "por",
    "nl": "nld",
    "pl": "pol",
    "cs": "ces",
    "da": "dan",
    "sv": "swe",
    "no": "nor",
    "fi": "fin",
    "tr": "tur",
    "ru": "rus",
    "uk": "ukr",
    "el": "ell",
    "ar": "ara",
    "hi": "hin",
    "ja": "jpn",
    "japan": "jpn",
    "ko": "kor",
    "korean": "kor",
    "zh": "chi_sim",
    "ch": "chi_sim",
    "chinese_cht": "chi_tra",
    "zh_tw": "chi_tra",
}


@dataclass(frozen=True)
class Installed:
    """Where Tesseract's language files are and which recognition languages are there."""

    tessdata: Path
    languages: tuple[str, ...]


def require_engine() -> str:
    """The tesseract program's version; 503 ENGINE_UNAVAILABLE (with the fix) without it."""
    status = engines.check("tesseract")
    if not status.available:
        fix = f" Fix: {status.fix}" if status.fix else ""
        raise ToolError(
            "ENGINE_UNAVAILABLE", f"Tesseract is unavailable: {status.detail}.{fix}", 503
        )
    return status.version or "(unknown version)"


@cache
def installed() -> Installed:
    """`tesseract --list-langs`, once per process (a language added later needs a restart,
    as engines.check does)."""
    program = _program()
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, the path from which()
            [program, "--list-langs"],
            capture_output=True,
            text=True,
            timeout=engines.TESSERACT_TIMEOUT_S,
            env=_env(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError("ENGINE_UNAVAILABLE", f"tesseract --list-langs failed: {exc}", 503) from exc
    text = done.stdout + done.stderr
    header = _LIST_HEADER.search(text)
    names = [line.strip() for line in text[header.end() :].splitlines()[1:]] if header else []
    found = tuple(n for n in names if _LANGUAGE.fullmatch(n) and n not in _NOT_LANGUAGES)
    if header is None or not found:
        raise ToolError(
            "ENGINE_UNAVAILABLE",
            f"Tesseract lists no recognition language. Fix: {engines.TESSERACT_FIX}",
            503,
        )
    return Installed(Path(header.group("dir")), found)


def resolve_languages(language: str) -> list[str]:
    """Tesseract's names for a `language` setting ("auto", "eng", "en+deu"...); 400 with
    the installed list for one that is not installed. "auto" is English where it is
    installed, else every installed language."""
    have = installed().languages
    if language.lower() == "auto":
        return ["eng"] if "eng" in have else list(have)
    chosen: list[str] = []
    for part in language.split("+"):
        name = part if part in have else ALIASES.get(part.lower(), part)
        if not _LANGUAGE.fullmatch(name) or name not in have:
            raise ToolError(
                "UNSUPPORTED_LANGUAGE",
                f"language {part[:32]!r} is not installed for Tesseract (quality fast); "
                f"installed: {', '.join(have)} (more: apt-get install tesseract-ocr-<lang>)",
                400,
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def runs(languages: list[str], version: str) -> list[Run]:
    """One credit per language model, named as the catalog names them ("tesseract-eng",
    also for languages the catalog does not list), with its file's sha256."""
    tessdata = installed().tessdata
    return [
        Run(
            f"Tesseract {version} (LSTM)",
            f"tesseract-{name}",
            install.verified_sha256(tessdata / f"{name}.traineddata"),
            "cpu",
        )
        for name in languages
    ]


def read(
    ctx: Context, image: Path, languages: list[str], dpi: int | None, megapixels: float
) -> list[dict[str, Any]]:
    """The lines Tesseract finds in a PNG: [{text, confidence, box, words}], boxes
    [x, y, w, h] in that PNG's pixels, in reading order."""
    command = [_program(), str(image), "stdout", "-l", "+".join(languages)]
    command += ["--oem", "1", "--psm", "3"]
    if dpi:
        command += ["--dpi", str(dpi)]
    command.append("tsv")
    output = _run(ctx, command, TIMEOUT_S + PER_MEGAPIXEL_S * megapixels)
    return parse_tsv(output)


def _run(ctx: Context, command: list[str], timeout: float) -> str:
    """stdout of the command; killed at `timeout` (422 OCR_TIMEOUT) or on cancel."""
    process = subprocess.Popen(  # noqa: S603 - checked arguments, no shell
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    waited = 0.0
    while True:
        try:
            out, err = process.communicate(timeout=_POLL_S)
            break
        except subprocess.TimeoutExpired:
            waited += _POLL_S
            if waited >= timeout or ctx.is_cancelled():
                process.kill()
                process.communicate()
                ctx.check_cancelled()
                raise ToolError(
                    "OCR_TIMEOUT", f"Tesseract took over {timeout:.0f} s on one page", 422
                ) from None
    if process.returncode != 0:
        reason = (err.strip().splitlines() or ["no message"])[-1][:300]
        raise ToolError("OCR_FAILED", f"Tesseract failed: {reason}", 422)
    return out


def parse_tsv(tsv: str) -> list[dict[str, Any]]:
    """Words (level 5 rows) grouped into their lines (page, block, paragraph, line)."""
    lines: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or cells[0] != "5" or not cells[11].strip():
            continue
        left, top, width, height = (int(v) for v in cells[6:10])
        word = {
            "text": cells[11].strip(),
            "confidence": round(min(max(float(cells[10]) / 100, 0.0), 1.0), 4),
            "box": [left, top, width, height],
        }
        lines.setdefault(tuple(cells[1:5]), []).append(word)
    return [_line(words) for words in lines.values()]


def _line(words: list[dict[str, Any]]) -> dict[str, Any]:
    x0 = min(w["box"][0] for w in words)
    y0 = min(w["box"][1] for w in words)
    x1 = max(w["box"][0] + w["box"][2] for w in words)
    y1 = max(w["box"][1] + w["box"][3] for w in words)
    confidence = sum(w["confidence"] for w in words) / len(words)
    return {
        "text": " ".join(w["text"] for w in words),
        "confidence": round(confidence, 4),
        "box": [x0, y0, x1 - x0, y1 - y0],
        "words": words,
    }


def _program() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise ToolError(
            "ENGINE_UNAVAILABLE",
            f"Tesseract is unavailable: tesseract is not on PATH. Fix: {engines.TESSERACT_FIX}",
            503,
        )
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}
