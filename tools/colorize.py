"""AI colourisation: a black-and-white (or faded) photo given plausible colours by DDColor.

DDColor (ONNX, tools.ai.ddcolor) predicts the colour from the photo's lightness at
512x512; the colour is joined with the photo's own full-resolution lightness, so edges
stay sharp. `intensity` 0..1 blends the predicted colour with the photo's own (1 = the
model's colours, 0 = the photo unchanged). The colours are a guess, not a recovery of
the original ones.

Needs the `ddcolor` model: without it the answer is 503 MODEL_NOT_INSTALLED. (The
shipped catalog does not list a DDColor file yet: no published sha256 and size for one
could be pinned.) Alpha is kept; grey images come back RGB. Limits: the first
page/frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from tools import imaging
from tools.ai import ddcolor, rgb8
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool
from tools.fields import ImageOutputSettings


class Settings(ImageOutputSettings):
    """How strongly to colour, and with which model."""

    intensity: float = Field(1.0, ge=0, le=1, description="0 = unchanged, 1 = full colour.")
    model: Literal["ddcolor"] = Field("ddcolor", description="The colourisation model.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Colourise the image with DDColor; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ddcolor.session(ctx)  # 503 before any work when the model is missing
    ctx.progress(5, "decoding")
    work = rgb8.load(source, ctx)
    ctx.progress(20, "colourising (DDColor)")
    result, described = ddcolor.colorize(ctx, work.rgb8, settings.intensity)
    output = rgb8.write(work, result, ctx, fmt, source, settings.quality)
    output.extras = {"intensity": settings.intensity}
    return credit(output, [Run.of(described), Run(engine=output.engine)])


TOOL = Tool(
    id="colorize",
    name="AI Colorization",
    category="ai",
    description="Give a black-and-white photo plausible colours with DDColor (ONNX); "
    "intensity blends them with the original.",
    settings=Settings,
    run=run,
    models=(ddcolor.MODEL_ID,),
    inline=False,
)
