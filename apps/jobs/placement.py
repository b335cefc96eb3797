"""Where a job runs: in the request, on the `cpu` queue, or on the `gpu` queue. One rule.

- In the request (inline) only when every step is a fast CPU tool that needs no model,
  the job is not a batch, and no input is of a format whose decoding cost is not bounded
  by its pixel count (SVG filters, PDF content): the web process must stay responsive,
  and a loaded model belongs in a worker, where it stays warm for the next job.
- A job with a GPU step goes to the `gpu` queue when a GPU worker is configured
  (GPU_QUEUE); otherwise to the `cpu` queue, where the step runs on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from tools.base import Tool

# Decoders whose work a header cannot bound: never run them in the web process.
UNBOUNDED_FORMATS = frozenset({"svg", "pdf"})


@dataclass(frozen=True)
class Placement:
    inline: bool
    queue: str  # "cpu" or "gpu"


def fast_cpu(tool: Tool) -> bool:
    """A tool that may run inside a request: declared fast, CPU only, no model to load."""
    return tool.inline and tool.device == "cpu" and not tool.models


def queue_for(tools: Iterable[Tool]) -> str:
    gpu = any(t.device == "gpu" for t in tools)
    return "gpu" if gpu and settings.GPU_QUEUE else "cpu"


def place(
    tools: Sequence[Tool], *, each_file: bool, input_formats: Iterable[str] = ()
) -> Placement:
    inline = (
        not each_file
        and all(fast_cpu(t) for t in tools)
        and not UNBOUNDED_FORMATS.intersection(input_formats)
    )
    return Placement(inline=inline, queue=queue_for(tools))
