"""Automatic1111's extras request and response bodies (modules/api/models.py), read the
way its clients send them.

The fields, defaults and bounds are A1111's (ExtrasBaseRequest and its two subclasses).
What real clients send is accepted beyond what A1111's own validation takes: numbers and
booleans as strings (openOutpaint sends `upscaling_resize` as "2", from localStorage),
`null` for any field (its default), and unknown keys ignored (openOutpaint's
`"resize-mode"`, which A1111 ignores too). A body that is not a JSON object, or a value
out of bounds, is 400 VALIDATION_ERROR naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    model_validator,
)

from apps.compat.error_responses import error_responses
from apps.core.errors import ApiError

_M = TypeVar("_M", bound=BaseModel)
# What every extras call may answer besides 200.
EXTRAS_ERRORS = error_responses(
    (400, "Bad body, base64, image format or size (VALIDATION_ERROR, INVALID_BASE64, ...)"),
    (401, "No or a wrong credential (WWW-Authenticate: Basic)"),
    (404, "UPSCALER_NOT_FOUND: the message lists the valid names"),
    (413, "IMAGE_TOO_LARGE (over the pixel limit) or FILE_TOO_LARGE"),
    (503, "MODEL_NOT_INSTALLED: an upscale or face model is a download"),
    (504, "JOB_STILL_RUNNING after COMPAT_WAIT_S (the job goes on)"),
)


def _whole_number(value: Any) -> Any:
    """0/1 sent as "1", 1.0 or true: Literal[0, 1] would refuse them."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float | bool) and float(value).is_integer():
        return int(value)
    return value


Visibility = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class ExtrasRequest(BaseModel):
    """ExtrasBaseRequest: what to upscale with, how big, and the face restorers."""

    model_config = ConfigDict(extra="ignore")

    resize_mode: Annotated[Literal[0, 1], BeforeValidator(_whole_number)] = Field(
        0, description="0: by upscaling_resize; 1: to upscaling_resize_w x upscaling_resize_h."
    )
    show_extras_results: bool = Field(True, description="Accepted; the image always returns.")
    gfpgan_visibility: Visibility = Field(0, description="GFPGAN over the image, 0..1.")
    codeformer_visibility: Visibility = Field(0, description="CodeFormer over the image, 0..1.")
    codeformer_weight: Visibility = Field(0, description="CodeFormer fidelity: 0 = strongest.")
    upscaling_resize: float = Field(
        2, gt=0, allow_inf_nan=False, description="Factor (resize_mode 0), e.g. 1.5, 2, 4."
    )
    upscaling_resize_w: int = Field(512, ge=1, description="Target width (resize_mode 1).")
    upscaling_resize_h: int = Field(512, ge=1, description="Target height (resize_mode 1).")
    upscaling_crop: bool = Field(True, description="resize_mode 1: crop to fill the size.")
    upscaler_1: str = Field("None", description="An upscaler name from GET upscalers.")
    upscaler_2: str = Field("None", description="A second upscaler, blended over the first.")
    extras_upscaler_2_visibility: Visibility = Field(0, description="upscaler_2's weight.")
    upscale_first: bool = Field(False, description="Accepted; upscaling always runs first.")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class SingleImageRequest(ExtrasRequest):
    """ExtrasSingleImageRequest."""

    image: str = Field("", description="Base64 image, with or without a data: prefix.")


class FileData(BaseModel):
    """One image of a batch."""

    model_config = ConfigDict(extra="ignore")

    data: str = Field(description="Base64 image, with or without a data: prefix.")
    name: str = Field("", description="File name (A1111 requires it; here it is optional).")


class BatchImagesRequest(ExtrasRequest):
    """ExtrasBatchImagesRequest."""

    imageList: list[FileData] = Field(description="The images, at most MAX_BATCH_SIZE.")


class SingleImageResponse(BaseModel):
    """ExtrasSingleImageResponse."""

    image: str = Field(description="The result: raw PNG base64, no data: prefix.")
    html_info: str = Field(description="What ran: upscaler, model, engine, device.")


class BatchImagesResponse(BaseModel):
    """ExtrasBatchImagesResponse."""

    images: list[str] = Field(description="The results in order: raw PNG base64.")
    html_info: str = Field(description="What ran for the last image, as A1111 answers.")


class UpscalerItem(BaseModel):
    """UpscalerItem, plus whether the model is installed."""

    model_config = ConfigDict(protected_namespaces=())

    name: str = Field(description="What to send as upscaler_1 / upscaler_2.")
    model_name: str | None = Field(description="Our catalog model id (null: classic).")
    model_path: str | None = Field(description="Its folder under MODELS_DIR, if installed.")
    model_url: str | None = Field(description="Where the model is described.")
    scale: float | None = Field(description="Its largest native scale.")
    installed: bool = Field(description="False: a 503 until an admin installs it.")


class UpscalerList(RootModel[list[UpscalerItem]]):
    """GET upscalers."""


class FaceRestorerItem(BaseModel):
    """FaceRestorerItem, plus the catalog model and whether it is installed."""

    name: str = Field(description="GFPGAN or CodeFormer.")
    cmd_dir: str | None = Field(description="Its folder under MODELS_DIR, if installed.")
    model: str = Field(description="The catalog model id.")
    installed: bool = Field(description="False: gfpgan/codeformer_visibility answer 503.")


class FaceRestorerList(RootModel[list[FaceRestorerItem]]):
    """GET face-restorers."""


class ProgressResponse(BaseModel):
    """ProgressResponse: the caller's latest running (else queued) job."""

    progress: float = Field(description="0..1; 0 when idle.")
    eta_relative: float = Field(description="Seconds left (from recent jobs of the tool).")
    state: dict[str, Any] = Field(
        description="A1111's state keys (skipped, interrupted, job, job_count, "
        "job_timestamp, job_no, sampling_step, sampling_steps) plus job_id and status."
    )
    current_image: str | None = Field(None, description="Always null.")
    textinfo: str | None = Field(None, description="The job's current stage.")


class InterruptResponse(BaseModel):
    """A1111 answers {}; `cancelled` is extra."""

    cancelled: int = Field(description="How many of the caller's jobs were cancelled.")


def parse(model: type[_M], data: Any) -> _M:
    """The request body as `model`; 400 VALIDATION_ERROR naming the first bad field."""
    if not isinstance(data, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Send a JSON object")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise ApiError(400, "VALIDATION_ERROR", f"{where}: {error['msg']}") from None
