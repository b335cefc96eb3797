"""Downloading a catalog model's files: https only, allowed hosts only, resumable, verified.

Each missing file is fetched into `MODELS_DIR/<id>/.<name>.part`. An interrupted download
keeps its part file, and the next try asks for the rest with a Range request (a server that
answers 200 instead of 206 sends it all again). When the part has the catalog's size, its
sha256 is checked: a match is renamed into place atomically, a mismatch deletes the part and
fails MODEL_CHECKSUM_MISMATCH. So a model file is either whole and verified or absent.

Every URL, and every redirect it leads to, must be https and on a host of `hosts` (exact
names, or `*.example.org` for its subdomains): a catalog entry or a redirect cannot make the
server fetch from anywhere else. A server that sends more than the catalog's size is cut
off. Network failures are MODEL_DOWNLOAD_FAILED, naming the file and the reason.
"""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.ai.catalog import ModelFile, ModelSpec
from tools.ai.install import file_status, sha256_of
from tools.base import Cancelled, ToolError

CHUNK = 256 * 1024
TIMEOUT_S = 30.0  # per connect/read: a stalled server fails, a slow one goes on
Progress = Callable[[int, int, str], None]  # (bytes done, bytes in all, file name)

DEFAULT_HOSTS = (
    "huggingface.co",
    "*.huggingface.co",
    "*.hf.co",
    "github.com",
    "objects.githubusercontent.com",
    "release-assets.githubusercontent.com",
)


def host_allowed(url: str, hosts: Sequence[str]) -> bool:
    """Whether `url` is https on one of `hosts` ("*.x.org" allows x.org's subdomains)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or not host:
        return False
    for allowed in (h.strip().lower() for h in hosts if h.strip()):
        if allowed.startswith("*."):
            if host.endswith(allowed[1:]):
                return True
        elif host == allowed:
            return True
    return False


def _refused(url: str, hosts: Sequence[str]) -> ToolError:
    where = urlsplit(url)
    return ToolError(
        "MODEL_DOWNLOAD_FAILED",
        f"Refusing to download from {where.scheme}://{where.hostname}: only https from "
        f"MODEL_DOWNLOAD_HOSTS ({', '.join(hosts) or 'none'})",
        502,
    )


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed https host."""

    def __init__(self, hosts: Sequence[str]) -> None:
        self.hosts = hosts

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):
        if not host_allowed(newurl, self.hosts):
            raise _refused(newurl, self.hosts)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class Downloader:
    """Downloads the missing files of download-kind models into `root`."""

    root: Path
    hosts: Sequence[str] = DEFAULT_HOSTS
    ca_file: str | None = None  # a CA bundle (a TLS-intercepting proxy's), else the system's
    progress: Progress = lambda done, total, name: None
    is_cancelled: Callable[[], bool] = lambda: False

    def download(self, spec: ModelSpec) -> list[str]:
        """Fetch every file of `spec` that is not installed; returns the names fetched."""
        if spec.source.kind != "download":
            raise ToolError(
                "MODEL_NOT_DOWNLOADABLE",
                f"{spec.id} is not downloaded: it is installed with `manage.py models install "
                f"{spec.id}`",
                409,
            )
        todo = [f for f in spec.files if file_status(self.root, spec, f) != "installed"]
        total = sum(f.size or 0 for f in todo)
        done = 0
        for file in todo:
            self._fetch(spec, file, done, total)
            done += file.size or 0
        self.progress(total, total, "")
        return [f.name for f in todo]

    def _fetch(self, spec: ModelSpec, file: ModelFile, before: int, total: int) -> None:
        assert file.url and file.sha256 and file.size is not None  # the catalog checks these
        if not host_allowed(file.url, self.hosts):
            raise _refused(file.url, self.hosts)
        folder = self.root / spec.id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / file.name
        part = folder / f".{file.name}.part"
        if part.exists() and part.stat().st_size > file.size:
            part.unlink()
        try:
            self._transfer(file, part, lambda n: self.progress(before + n, total, file.name))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ToolError(
                "MODEL_DOWNLOAD_FAILED",
                f"Downloading {spec.id}/{file.name} failed: {reason} (run the download again to "
                f"resume, or install it offline with POST /api/v1/models/{spec.id}/import)",
                502,
            ) from exc
        actual = sha256_of(part)
        if actual != file.sha256:
            part.unlink(missing_ok=True)
            raise ToolError(
                "MODEL_CHECKSUM_MISMATCH",
                f"{spec.id}/{file.name}: the downloaded file's sha256 is {actual}, the catalog's "
                f"is {file.sha256}; it was deleted",
                502,
            )
        os.replace(part, target)

    def _transfer(self, file: ModelFile, part: Path, progress: Callable[[int], None]) -> None:
        """Append the rest of the file to `part`, resuming from its size when it can."""
        assert file.url and file.size is not None
        have = part.stat().st_size if part.exists() else 0
        if have == file.size:
            return
        # https on an allowed host: checked by _fetch, and on each redirect by _Redirects.
        request = urllib.request.Request(file.url, headers={"User-Agent": "Pixelsmith"})  # noqa: S310
        if have:
            request.add_header("Range", f"bytes={have}-")
        context = ssl.create_default_context(cafile=self.ca_file)
        opener = urllib.request.build_opener(
            _Redirects(self.hosts), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(request, timeout=TIMEOUT_S) as response:
            if response.status != 206:  # the server sends the whole file: start over
                have = 0
            with part.open("ab" if have else "wb") as out:
                while chunk := response.read(CHUNK):
                    have += len(chunk)
                    if have > file.size:
                        raise ValueError(f"the server sent more than the expected {file.size} B")
                    out.write(chunk)
                    progress(have)
                    if self.is_cancelled():
                        raise Cancelled()
        if have != file.size:
            raise ValueError(f"the connection ended after {have} of {file.size} B")
