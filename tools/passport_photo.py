"""Passport photo: one country's photo from a portrait, head placed and scaled, background
replaced, alone or laid out on a 4x6 in or A4 sheet.

Steps (MediaPipe models from catalog.toml; geometry and blending in OpenCV):

1. Face: `mediapipe-face-detector` (short range) finds the faces; the largest is used (none:
   422 NO_FACE_FOUND). Its eye centre is the mean of the two eye keypoints; the roll is
   the angle of the line between the eyes, and the photo is rotated to level it.
2. Head height, chin to crown. The detector gives no chin or crown, so they are derived:
   - chin = mouth centre + 0.75 x (eye line to mouth): the mouth-to-chin distance is about
     3/4 of the eye-to-mouth one in adult anthropometric norms (Farkas, 1994: stomion to
     gnathion ~45-50 mm, pupil line to stomion ~60-66 mm); on the astronaut portrait it
     lands within 2 px of the real chin;
   - crown = the top of the person mask (`mediapipe-selfie-segmenter`) straight above the
     eyes: the real top of the head, hair included, as the US, Canada and ICAO measure it.
     Where the mask is missing, touches the image's top edge (head cut off) or is out of
     proportion (under 0.8x or over 1.6x the estimate), the crown is estimated instead at
     1.9 x (eye line to mouth) above the eyes (the skull's top is ~1.75x; the rest is an
     allowance for hair), and `compliance.crownFrom` says "estimate".
3. Placement: scaled so the head is the middle of the spec's range, eyes centred across,
   the eye line at the spec's top margin (or 35 % of the free height above the head) but
   15 % of the eye-line range inside it. The background colour fills what the photo lacks.
4. Background: the person mask is computed again on the placed photo (the segmenter sees
   256x256: the head gets more of its pixels that way), feathered (Gaussian, ~1 px at 300
   dpi) and the rest painted `backgroundColor` (default: the country's).
5. Compliance is measured on the result: the face is detected again, and head height, eye
   line and tilt are read from it the same way; the background is uniform when the pixels
   outside the person vary by under 2 levels (standard deviation per band).

Size: photo pixels = round(mm / 25.4 x dpi) (US 2 in at 300 dpi: 600; 35x45 mm: 413x531).
The file records the dpi (JPEG: JFIF density and EXIF; PNG: pHYs). `printLayout` 4x6 or
A4 puts copies on a print sheet with cut lines (tools/print_sheet.py). Output JPEG
(quality 95 by default) or PNG; 8-bit sRGB (an embedded ICC profile is converted), alpha
flattened onto the background, EXIF orientation applied. A large image is worked on at
1.5x the resolution the photo needs. Measured on 2 busy CPU cores, models loaded: 0.1 s
for a 1 MP portrait (0.2 s with an A4 sheet), 0.7 s for 13 MP (mostly decoding).
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyvips
from pydantic import Field, field_validator

from tools import arrays, colour, imaging, passport_specs, print_sheet
from tools.ai import mediapipe_tasks
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import Quality, parse_color
from tools.passport_specs import MM_PER_INCH, PhotoSpec

CHIN_BELOW_MOUTH = 0.75  # x (eye line to mouth): mouth centre to chin
CROWN_ABOVE_EYES = 1.9  # x (eye line to mouth): the estimate when the mask gives no crown
MASK_CROWN_RANGE = (0.8, 1.6)  # mask crown accepted within this factor of the estimate
TOP_SHARE = 0.35  # of the height left free by the head, this share goes above the crown
EYE_INSET = 0.15  # the eye line is kept this share of its range inside the range
MAX_TILT = 8.0  # degrees of roll ISO/IEC 19794-5 tolerates
WORKING_MARGIN = 1.5  # the working image keeps this much more resolution than needed
UNIFORM_STD = 2.0  # levels: the most a uniform background's pixels vary (std per band)
DEFAULT_JPEG_QUALITY = 95


def _countries_schema() -> dict[str, Any]:
    labels = {s.code: f"{s.name} ({s.width_mm:g}x{s.height_mm:g} mm)" for s in passport_specs.SPECS}
    return {"enum": passport_specs.codes(), "x-countries": labels}


class Settings(ToolSettings):
    """Country (ISO 3166 alpha-2), print layout, background colour, dpi and output format."""

    country: str = Field(
        "us",
        description="ISO 3166-1 alpha-2 code of the issuing country (37 countries).",
        json_schema_extra=_countries_schema(),
    )
    printLayout: Literal["none", "4x6", "A4"] = Field(
        "none", description="none: the photo alone; 4x6 (in) or A4: a sheet of copies."
    )
    backgroundColor: str | None = Field(
        None,
        pattern=r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$",
        description="Default: the country's (white or light grey).",
    )
    dpi: int | None = Field(None, ge=100, le=1200, description="Default: the country's (300).")
    format: Literal["jpeg", "png"] = Field("jpeg", description="jpeg (jpg) or png.")
    quality: Quality | None = Field(None, description="JPEG quality (default 95); PNG is lossless.")

    @field_validator("country", mode="before")
    @classmethod
    def _known_country(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        code = value.strip().lower()
        if code not in passport_specs.by_code():
            raise ValueError(
                f"unknown country {value!r}; one of {', '.join(passport_specs.codes())}"
            )
        return code

    @field_validator("printLayout", "format", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return {"a4": "A4", "jpg": "jpeg"}.get(value.lower(), value.lower())


@dataclass(frozen=True)
class Frame:
    """The photo to make: the country's spec, its size in pixels and its background."""

    spec: PhotoSpec
    size: tuple[int, int]
    bg: tuple[int, int, int]


@dataclass(frozen=True)
class Head:
    """A head in image pixels: eye centre, roll (degrees) and, in the levelled frame,
    the distances from the eye line up to the crown and down to the chin."""

    eyes: tuple[float, float]
    roll: float
    to_crown: float
    to_chin: float
    crown_from: str  # "person mask" or "estimate (why)"

    @property
    def height(self) -> float:
        return self.to_crown + self.to_chin


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Detect, level, scale and place the head, replace the background, check, lay out."""
    source = inputs[0]
    spec = passport_specs.by_code()[settings.country]
    dpi = settings.dpi or spec.dpi
    frame = Frame(spec, photo_pixels(spec, dpi), _background(settings, spec))
    layout = settings.printLayout
    sheet = None if layout == "none" else print_sheet.sheet_pixels(layout, dpi)
    what = "the photo" if sheet is None else f"the {layout} sheet"
    imaging.check_pixels(*(sheet or frame.size), ctx.max_megapixels, what)
    ctx.progress(5, "decoding")
    rgb = _decode(source, ctx, frame.bg)
    photo, compliance, runs = make_photo(ctx, rgb, frame, source.name)
    ctx.check_cancelled()
    result, copies = photo, 1
    if sheet is not None:
        ctx.progress(65, f"laying out the {layout} sheet")
        result, copies = print_sheet.lay_out(photo, layout, dpi)
    output = _write(result, settings, dpi, source, ctx)
    output.extras = _extras(frame, settings, dpi, compliance)
    if sheet is not None:
        output.extras["sheet"] = {"px": [result.shape[1], result.shape[0]], "copies": copies}
    return credit(output, [*runs, Run(engine=output.engine)])


def make_photo(
    ctx: Context, rgb: np.ndarray, frame: Frame, name: str
) -> tuple[np.ndarray, dict[str, Any], list[Any]]:
    """The single photo, its compliance checks, and the runs that made it."""
    ctx.progress(15, "finding the face")
    faces, face_run = mediapipe_tasks.detect_faces(ctx, rgb, min_score=0.5)
    if not faces:
        raise ToolError("NO_FACE_FOUND", f"No face found in {name}", 422)
    rgb, face = _working_size(rgb, max(faces, key=lambda f: f.box[2] * f.box[3]), frame)
    ctx.check_cancelled()
    ctx.progress(30, "segmenting the person")
    mask, seg_run = mediapipe_tasks.segment_person(ctx, rgb)
    head = refine(ctx, rgb, measure_head(face, mask), mask, frame)
    ctx.check_cancelled()
    ctx.progress(45, "placing the head, replacing the background")
    photo, alpha = _place(ctx, rgb, head, frame)
    ctx.check_cancelled()
    ctx.progress(60, "checking the result")
    compliance = check(ctx, photo, alpha, frame.spec)
    compliance.update(faceCount=len(faces), inputTilt=round(head.roll, 2))
    compliance["crownFrom"] = head.crown_from
    engine = f"OpenCV {arrays.cv2().__version__} (levelling, scaling, feathered background)"
    return photo, compliance, [face_run, seg_run, Run(engine=engine)]


def _working_size(
    rgb: np.ndarray, face: mediapipe_tasks.Face, frame: Frame
) -> tuple[np.ndarray, mediapipe_tasks.Face]:
    """The image (and face) shrunk to 1.5x the resolution the photo needs (the head size
    is a first estimate), when it has more: a 12 MP portrait's masks and warps then cost
    a fraction."""
    eyes = (np.array(face.keypoints["right_eye"]) + np.array(face.keypoints["left_eye"])) / 2
    eye_to_mouth = float(np.hypot(*(np.array(face.keypoints["mouth_center"]) - eyes)))
    head = eye_to_mouth * (1 + CHIN_BELOW_MOUTH + CROWN_ABOVE_EYES)
    spec = frame.spec
    scale = float(np.mean(spec.head_mm)) / spec.height_mm * frame.size[1] / max(head, 1.0)
    factor = WORKING_MARGIN * scale
    if factor >= 0.8:
        return rgb, face
    height, width = rgb.shape[:2]
    shrunk = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = arrays.cv2().resize(rgb, shrunk, interpolation=arrays.cv2().INTER_AREA)
    fx, fy = shrunk[0] / width, shrunk[1] / height
    points = {k: (x * fx, y * fy) for k, (x, y) in face.keypoints.items()}
    x, y, w, h = face.box
    box = (round(x * fx), round(y * fy), round(w * fx), round(h * fy))
    return small, mediapipe_tasks.Face(box, face.score, points)


def photo_pixels(spec: PhotoSpec, dpi: int) -> tuple[int, int]:
    """The photo's size in pixels at `dpi`: mm / 25.4 x dpi, rounded to the nearest."""
    return (round(spec.width_mm / MM_PER_INCH * dpi), round(spec.height_mm / MM_PER_INCH * dpi))


def _background(settings: Settings, spec: PhotoSpec) -> tuple[int, int, int]:
    value = settings.backgroundColor or spec.background
    r, g, b, _ = parse_color(value if value.startswith("#") else f"#{value}")
    return (r, g, b)


def _decode(source: Source, ctx: Context, bg: tuple[int, int, int]) -> np.ndarray:
    """8-bit sRGB pixels: profile converted, alpha flattened onto `bg`."""
    image = imaging.load(source, ctx.max_megapixels)
    if image.get_typeof("icc-profile-data") != 0:
        # A broken profile: its pixels are taken as sRGB, as elsewhere.
        with contextlib.suppress(pyvips.Error):
            image = image.icc_transform("srgb", embedded=True)
    rgb = colour.to_rgb(image)
    if rgb.hasalpha():
        rgb = rgb.flatten(background=list(bg))
    pixels = arrays.to_array(rgb.cast("uchar"))[..., :3]
    return np.ascontiguousarray(pixels)


# --- head geometry -----------------------------------------------------------------------


def measure_head(face: mediapipe_tasks.Face, mask: np.ndarray) -> Head:
    """Eye centre, roll, and crown/chin distances of a detected face (see the docstring)."""
    right = np.array(face.keypoints["right_eye"])
    left = np.array(face.keypoints["left_eye"])
    centre = (right + left) / 2
    dx, dy = left - right  # the person's right eye is on the image's left
    roll = math.degrees(math.atan2(dy, dx))
    level = arrays.cv2().getRotationMatrix2D((float(centre[0]), float(centre[1])), roll, 1.0)
    mouth = level @ np.array([*face.keypoints["mouth_center"], 1.0])
    eye_to_mouth = float(mouth[1] - centre[1])
    if eye_to_mouth <= 0:
        raise ToolError("NO_FACE_FOUND", "The face found is not upright enough to measure", 422)
    to_chin = eye_to_mouth * (1 + CHIN_BELOW_MOUTH)
    estimate = eye_to_mouth * CROWN_ABOVE_EYES
    found, why = _mask_crown(mask, level, centre, float(np.hypot(dx, dy)))
    low, high = MASK_CROWN_RANGE
    if found is not None and not low * estimate <= found <= high * estimate:
        found, why = None, "person mask out of proportion"
    eyes = (float(centre[0]), float(centre[1]))
    if found is None:
        return Head(eyes, roll, estimate, to_chin, f"estimate ({why})")
    return Head(eyes, roll, found, to_chin, "person mask")


def _mask_crown(
    mask: np.ndarray, level: np.ndarray, centre: np.ndarray, eye_distance: float
) -> tuple[float | None, str]:
    """Distance from the eye line up to the top of the person mask (the median over a band
    as wide as the eye distance), or None and why: no head there, or the head reaching
    the image's edge (cut off)."""
    cv2 = arrays.cv2()
    height, width = mask.shape
    # Outside the image is -1 after levelling: a head running into it is cut off.
    levelled = cv2.warpAffine(
        mask, level, (width, height), flags=cv2.INTER_NEAREST, borderValue=-1.0
    )
    cx, cy = round(float(centre[0])), round(float(centre[1]))
    half = max(1, int(eye_distance / 2))
    above = levelled[: max(cy, 0), max(cx - half, 0) : min(cx + half + 1, width)][::-1]
    if above.size == 0 or not (above[0] > 0.5).any():
        return None, "no head outline in the person mask"
    person = above > 0.5
    stop = np.argmax(~person, axis=0)  # rows up from the eye line to the first non-person
    ends = (~person).any(axis=0) & (above[stop, np.arange(above.shape[1])] >= 0)
    if ends.mean() < 0.5:
        return None, "head cut off at the top"
    return float(np.median(stop[ends])), ""


# --- placement ----------------------------------------------------------------------------


def refine(ctx: Context, rgb: np.ndarray, head: Head, mask: np.ndarray, frame: Frame) -> Head:
    """The head measured again on a first placement, where the face fills the photo: the
    detector sees 128x128, so in a whole portrait the eye keypoints are ~1 px off there
    (several degrees of roll); in the placed photo they are 2-3x more precise. The
    keypoints are mapped back to the image and the head measured from them."""
    matrix, scale = placement(head, frame)
    placed, _ = _warp(rgb, matrix, scale, frame.size)
    found, _ = mediapipe_tasks.detect_faces(ctx, placed, min_score=0.5)
    if not found:
        return head
    best = max(found, key=lambda f: f.box[2] * f.box[3])
    back = arrays.cv2().invertAffineTransform(matrix)
    points = {k: tuple(back @ np.array([x, y, 1.0])) for k, (x, y) in best.keypoints.items()}
    return measure_head(mediapipe_tasks.Face(best.box, best.score, points), mask)


def _place(
    ctx: Context, rgb: np.ndarray, head: Head, frame: Frame
) -> tuple[np.ndarray, np.ndarray]:
    """The photo, head placed, background replaced; and its person alpha."""
    matrix, scale = placement(head, frame)
    placed, inside = _warp(rgb, matrix, scale, frame.size)
    ctx.check_cancelled()
    mask, _ = mediapipe_tasks.segment_person(ctx, placed)
    alpha = _feather(mask * inside, frame.size[1])
    weight = alpha[..., None]
    bg = np.array(frame.bg, np.float32)
    photo = placed.astype(np.float32) * weight + bg * (1 - weight)
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8), alpha


def placement(head: Head, frame: Frame) -> tuple[np.ndarray, float]:
    """The 2x3 matrix from image to photo pixels (level, scale, place), and its scale."""
    spec, (width, height) = frame.spec, frame.size
    per_mm = height / spec.height_mm
    scale = float(np.mean(spec.head_mm)) * per_mm / head.height
    crown_above = head.to_crown * scale
    if spec.top_mm is not None:
        top = float(np.mean(spec.top_mm)) * per_mm
    else:
        top = TOP_SHARE * (height - head.height * scale)
    eye_line = height - top - crown_above  # above the bottom edge
    low, high = spec.eyes_mm
    inset = EYE_INSET * (high - low)  # measuring again may move the eyes a little
    eye_line = min(max(eye_line, (low + inset) * per_mm), (high - inset) * per_mm)
    rotation = arrays.cv2().getRotationMatrix2D(head.eyes, head.roll, scale)
    target = np.array([width / 2, height - eye_line])
    rotation[:, 2] = target - rotation[:, :2] @ np.array(head.eyes)
    return rotation, scale


def _warp(
    rgb: np.ndarray, matrix: np.ndarray, scale: float, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """`rgb` through `matrix` at `size`, and where the image covers it (0..1).
    Shrinking first resizes the needed region with area averaging: no aliasing."""
    cv2 = arrays.cv2()
    if scale < 1:
        rgb, matrix = _shrink_region(rgb, matrix, scale, size)
    flags = cv2.INTER_CUBIC
    placed = cv2.warpAffine(rgb, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones(rgb.shape[:2], np.float32)
    inside = cv2.warpAffine(ones, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    return placed, inside


def _shrink_region(
    rgb: np.ndarray, matrix: np.ndarray, scale: float, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The part of `rgb` the photo shows, shrunk by `scale`, and the matrix from it."""
    cv2 = arrays.cv2()
    width, height = size
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    back = cv2.invertAffineTransform(matrix)
    points = corners @ back[:, :2].T + back[:, 2]
    pad = 2 / scale
    x0, y0 = (max(0, int(v - pad)) for v in points.min(axis=0))
    x1 = min(rgb.shape[1], int(points[:, 0].max() + pad) + 1)
    y1 = min(rgb.shape[0], int(points[:, 1].max() + pad) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return rgb, matrix
    crop = rgb[y0:y1, x0:x1]
    shrunk_size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    shrunk = cv2.resize(crop, shrunk_size, interpolation=cv2.INTER_AREA)
    fx, fy = shrunk_size[0] / crop.shape[1], shrunk_size[1] / crop.shape[0]
    to_crop = np.array([[1 / fx, 0, x0], [0, 1 / fy, y0], [0, 0, 1]])
    return shrunk, matrix @ to_crop


def _feather(alpha: np.ndarray, height: int) -> np.ndarray:
    """A soft matte edge: ~1 px at 300 dpi, in proportion at other sizes."""
    sigma = max(0.7, height / 600)
    return np.clip(arrays.cv2().GaussianBlur(alpha.astype(np.float32), (0, 0), sigma), 0.0, 1.0)


# --- compliance ---------------------------------------------------------------------------


def check(ctx: Context, photo: np.ndarray, alpha: np.ndarray, spec: PhotoSpec) -> dict[str, Any]:
    """Measure the result: face found, head height and eye line as shares of the photo
    height, tilt, and whether the background is one uniform colour."""
    height = photo.shape[0]
    faces, _ = mediapipe_tasks.detect_faces(ctx, photo, min_score=0.5)
    result: dict[str, Any] = {"faceFound": bool(faces), **_background_check(photo, alpha)}
    if not faces:
        return result
    face = max(faces, key=lambda f: f.box[2] * f.box[3])
    head = measure_head(face, alpha)
    head_ratio = head.height / height
    eye_ratio = (height - head.eyes[1]) / height
    head_range = [v / spec.height_mm for v in spec.head_mm]
    eye_range = [v / spec.height_mm for v in spec.eyes_mm]
    result.update(
        headHeightRatio=round(head_ratio, 4),
        headHeightMm=round(head_ratio * spec.height_mm, 2),
        headHeightRange=[round(v, 4) for v in head_range],
        headHeightOk=bool(head_range[0] <= head_ratio <= head_range[1]),
        eyeLineRatio=round(eye_ratio, 4),
        eyeLineMm=round(eye_ratio * spec.height_mm, 2),
        eyeLineRange=[round(v, 4) for v in eye_range],
        eyeLineOk=bool(eye_range[0] <= eye_ratio <= eye_range[1]),
        headInFrame=bool(head.eyes[1] >= head.to_crown and head.eyes[1] + head.to_chin <= height),
        tilt=round(head.roll, 2),
        tiltOk=bool(abs(head.roll) <= MAX_TILT),
    )
    return result


def _background_check(photo: np.ndarray, alpha: np.ndarray) -> dict[str, Any]:
    """Uniform when the pixels outside the person vary by under 2 levels (std) per band."""
    outside = (alpha < 0.02).astype(np.uint8)
    share = float(outside.mean())
    if share == 0:
        return {"backgroundUniform": False, "backgroundShare": 0.0}
    _, std = arrays.cv2().meanStdDev(photo, mask=outside)
    return {
        "backgroundUniform": bool(float(std.max()) <= UNIFORM_STD),
        "backgroundShare": round(share, 4),
    }


# --- sheets and output --------------------------------------------------------------------


def _write(
    pixels: np.ndarray, settings: Settings, dpi: int, source: Source, ctx: Context
) -> Output:
    """Encode as sRGB with the resolution recorded (libvips keeps pixels per mm)."""
    result = arrays.from_array(pixels, "srgb")
    result = result.copy(xres=dpi / MM_PER_INCH, yres=dpi / MM_PER_INCH)
    if settings.format == "png":  # lossless: a quality would quantise it to a palette
        return imaging.write_image(result, ctx, "png", source)
    quality = settings.quality or DEFAULT_JPEG_QUALITY
    # strip=False: the pixels came from an array, so the only metadata is the resolution,
    # which libvips writes to JPEG as EXIF only; a JFIF header says it for other readers.
    output = imaging.write_image(result, ctx, "jpeg", source, quality=quality, strip=False)
    assert output.path is not None
    _add_jfif_density(output.path, dpi)
    return output


def _add_jfif_density(path: Path, dpi: int) -> None:
    """Put a JFIF APP0 segment (version 1.01, density in dots per inch) after the SOI."""
    data = path.read_bytes()
    if data[2:4] == b"\xff\xe0":  # a JFIF/JFXX segment is there already
        return
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x01" + struct.pack(">HH", dpi, dpi) + b"\x00\x00"
    path.write_bytes(data[:2] + app0 + data[2:])


def _extras(
    frame: Frame, settings: Settings, dpi: int, compliance: dict[str, Any]
) -> dict[str, Any]:
    spec = frame.spec
    return {
        "country": spec.code,
        "countryName": spec.name,
        "size": {"mm": [spec.width_mm, spec.height_mm], "px": list(frame.size)},
        "dpi": dpi,
        "printLayout": settings.printLayout,
        "backgroundColor": "#{:02x}{:02x}{:02x}".format(*frame.bg),
        "compliance": compliance,
        "spec": spec.describe(),
    }


TOOL = Tool(
    id="passport-photo",
    name="Passport Photo",
    category="ai",
    description="A passport photo for one of 37 countries: MediaPipe face landmarks place "
    "and scale the head, person segmentation replaces the background; alone or as a 4x6 in "
    "or A4 print sheet, with compliance checks.",
    settings=Settings,
    run=run,
    models=(mediapipe_tasks.SHORT_RANGE, mediapipe_tasks.SEGMENTER),
    inline=False,
)
