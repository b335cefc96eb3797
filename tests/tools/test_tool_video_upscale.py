"""video-upscale on short videos these tests generate (tests/tools/video_support.py): size,
frame count, duration and timestamps kept, audio in sync, subtitles and chapters copied,
codecs, clips and the preview, limits and bad input, progress, cancel, resume, memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tests.tools import video_support as vs
from tools import imaging, registry, runner, video_upscale
from tools.ai import onnx_session, realesrgan
from tools.ai.catalog import catalog
from tools.ai.store import ModelStore
from tools.base import Cancelled, Context, Output, Source, ToolError
from tools.video import codecs, enlarge, limits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store() -> ModelStore:
    return ModelStore()  # each model loads once for the module


@pytest.fixture
def ctx(tmp_path: Path, store: ModelStore) -> Context:
    return Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir(), models=store)


@pytest.fixture(autouse=True)
def default_limits() -> Iterator[None]:
    """Each test starts from the defaults and leaves them as it found them."""
    previous = limits.configure(**vars(limits.Limits()))
    yield
    limits.configure(**vars(previous))


def source(path: Path) -> Source:
    return imaging.open_source(path, path.name)


def upscale_video(ctx: Context, path: Path, **settings: Any) -> Output:
    return runner.execute(video_upscale.TOOL, [source(path)], settings, ctx)


def error_of(ctx: Context, path: Path, **settings: Any) -> ToolError:
    with pytest.raises(ToolError) as caught:
        upscale_video(ctx, path, **settings)
    return caught.value


# --- what comes out --------------------------------------------------------------------


def test_it_doubles_the_size_and_keeps_frames_duration_and_audio(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=16)
    before = vs.probe(clip)

    output = upscale_video(ctx, clip)
    after = vs.probe(output.path)

    assert (output.media_type, output.filename) == ("video/mp4", "video.mp4")
    assert imaging.sniff(output.path) == "mp4"
    assert (after.width, after.height) == (64, 48)
    assert after.frames == before.frames == 16
    assert after.pts_seconds == before.pts_seconds
    assert after.video_seconds == pytest.approx(before.video_seconds, abs=1 / 8)
    assert after.audio_seconds is not None and before.audio_seconds is not None
    assert after.audio_seconds == pytest.approx(before.audio_seconds, abs=1 / 8)  # one frame
    assert output.extras["frames"] == 16 and output.extras["audioStreams"] == 1
    assert output.model == "realesr-animevideov3/realesr-animevideov3-x2.onnx"
    assert output.device == "cpu" and output.model_sha256


def test_the_frames_are_the_models_not_a_plain_resize(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=4, audio=False)
    output = upscale_video(ctx, clip, crf=0, preset="fast")
    session = onnx_session.for_model(
        ctx, catalog()["realesr-animevideov3"], catalog()["realesr-animevideov3"].files[0]
    )
    expected = realesrgan.upscale(session, decoded_rgb(clip)[0], scale=2, ctx=ctx)

    got = decoded_rgb(output.path)[0]

    # crf 0: only the RGB <-> YUV 4:2:0 round trip differs
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 6


def decoded_rgb(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_subtitles_and_chapters_are_copied_from_an_mkv(ctx, tmp_path):
    subtitles = ((0.25, 0.75, "Hello"), (1.0, 1.5, "World"))
    chapters = ((0.0, 1.0, "Opening"), (1.0, 2.0, "Ending"))
    clip = vs.make(
        tmp_path, "film.mkv", container="matroska", subtitles=subtitles, chapters=chapters
    )

    output = upscale_video(ctx, clip)
    after = vs.probe(output.path)

    assert output.media_type == "video/x-matroska" and output.filename == "video.mkv"
    assert after.subtitles == [(0.25, "Hello"), (1.0, "World")]
    assert after.chapters == ["Opening", "Ending"]
    assert output.extras["subtitleStreams"] == 1 and output.extras["chapters"] == 2


def test_subtitles_an_mp4_cannot_hold_are_left_out_with_a_note(ctx, tmp_path):
    clip = vs.make(tmp_path, "film.mkv", container="matroska", subtitles=((0.2, 0.6, "Hi"),))

    output = upscale_video(ctx, clip, container="mp4")

    assert vs.probe(output.path).subtitles == []
    assert vs.probe(output.path).audio_seconds is not None
    assert any("subrip" in note and "left out" in note for note in output.extras["notes"])


def test_variable_frame_rate_keeps_every_timestamp(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=12, vfr=True)
    before = vs.probe(clip)

    after = vs.probe(upscale_video(ctx, clip).path)

    assert after.pts_seconds == before.pts_seconds
    assert len(set(np.diff(after.pts_seconds).round(4))) == 2  # really variable
    assert after.audio_seconds == pytest.approx(before.audio_seconds, abs=1 / 8)


def test_colour_tags_are_kept(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=4, colour=(1, 1, 1, 1))  # BT.709, limited range

    assert vs.probe(upscale_video(ctx, clip).path).colour == (1, 1, 1, 1)


def test_a_target_short_edge_sets_the_size_in_proportion(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=4)

    output = upscale_video(ctx, clip, targetShortEdge=60)

    after = vs.probe(output.path)
    assert (after.width, after.height) == (80, 60)
    assert output.extras["nativeScale"] == 3  # 2.5x needed: the x3 model, then resized


@pytest.mark.parametrize("codec", codecs.available())
def test_each_codec_this_ffmpeg_has_writes_a_playable_file(ctx, tmp_path, codec):
    clip = vs.make(tmp_path, frames=6)

    output = upscale_video(ctx, clip, codec=codec, preset="fast")

    after = vs.probe(output.path)
    assert after.codec == codecs.CODECS[codec].name
    assert (after.width, after.height, after.frames) == (64, 48, 6)


def test_the_wheel_has_the_four_encoders():
    assert codecs.available() == ("h264", "h265", "vp9", "av1")


def test_webm_keeps_its_container_with_vp9_and_becomes_mkv_with_h264(ctx, tmp_path):
    clip = vs.make(tmp_path, "clip.webm", container="webm", codec="libvpx-vp9", frames=4)

    assert upscale_video(ctx, clip, codec="vp9", preset="fast").filename == "video.webm"
    assert upscale_video(ctx, clip, codec="h264").filename == "video.mkv"


def test_an_animated_gif_becomes_a_video_with_its_timing(ctx, tmp_path):
    clip = vs.make(tmp_path, "anim.gif", container="gif", codec="gif", audio=False, frames=6)
    before = vs.probe(clip)

    output = upscale_video(ctx, clip)

    after = vs.probe(output.path)
    assert output.filename == "video.mp4"
    assert after.frames == 6 and after.pts_seconds == pytest.approx(before.pts_seconds)


def test_no_audio_stream_is_fine(ctx, tmp_path):
    output = upscale_video(ctx, vs.make(tmp_path, frames=4, audio=False))

    assert vs.probe(output.path).audio_seconds is None
    assert output.extras["audioStreams"] == 0


# --- clips and the preview --------------------------------------------------------------


def test_a_clip_from_start_to_end_time_starts_at_zero_with_its_audio(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=24)  # 3 s

    output = upscale_video(ctx, clip, startTime=1.0, endTime=2.0)

    after = vs.probe(output.path)
    assert after.frames == 8 and after.pts_seconds[0] == 0
    assert after.audio_seconds == pytest.approx(1.0, abs=1 / 8)
    assert output.extras["window"] == {"start": 1.0, "end": 2.0}


def test_the_preview_is_a_two_second_clip_and_a_before_after_still(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=40)  # 5 s: the preview is 1.5 .. 3.5 s

    output = upscale_video(ctx, clip, preview=True)

    assert (output.media_type, output.filename) == ("application/zip", "preview.zip")
    archive = zipfile.ZipFile(output.path)
    assert sorted(archive.namelist()) == ["before-after.png", "info.json", "preview.mp4"]
    (tmp_path / "preview.mp4").write_bytes(archive.read("preview.mp4"))
    assert vs.probe(tmp_path / "preview.mp4").frames == 16
    still = pyvips.Image.new_from_buffer(archive.read("before-after.png"), "")
    assert (still.width, still.height) == (64 + 4 + 64, 48)
    assert json.loads(archive.read("info.json"))["window"] == {"start": 1.5, "end": 3.5}


# --- limits and bad input ------------------------------------------------------------------


def test_a_video_over_max_video_seconds_is_refused_before_any_frame(ctx, tmp_path):
    limits.configure(max_seconds=1)
    error = error_of(ctx, vs.make(tmp_path, frames=16))  # 2 s

    assert (error.status, error.code) == (400, "VIDEO_TOO_LONG")
    assert "MAX_VIDEO_SECONDS" in error.message
    assert not (ctx.scratch_dir / video_upscale.SEGMENTS_FOLDER).exists()


def test_an_output_over_max_video_pixels_is_refused(ctx, tmp_path):
    limits.configure(max_pixels=64 * 40)

    error = error_of(ctx, vs.make(tmp_path, frames=4))  # x2: 64x48

    assert (error.status, error.code) == (400, "OUTPUT_TOO_LARGE")
    assert "MAX_VIDEO_PIXELS" in error.message


def test_a_file_over_the_upload_limit_is_413(ctx, tmp_path):
    clip = vs.make(tmp_path, frames=4)
    with clip.open("ab") as fh:
        fh.write(b"\0" * (1024 * 1024))  # trailing junk after the moov: still a video
    limits.configure(max_upload_mb=1)

    error = error_of(ctx, clip)

    assert (error.status, error.code) == (413, "FILE_TOO_LARGE")
    assert "MAX_UPLOAD_SIZE_MB" in error.message


@pytest.mark.parametrize(
    ("make_bad", "code"),
    [
        (lambda d: d[: len(d) // 2], "CORRUPT_VIDEO"),  # truncated: no moov box
        (lambda d: d[:32] + bytes(range(256)) * 40, "CORRUPT_VIDEO"),  # an ftyp, then junk
    ],
    ids=["truncated", "junk-after-header"],
)
def test_a_broken_video_is_422_with_the_reason(ctx, tmp_path, make_bad, code):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(make_bad(vs.tiny_mp4()))

    error = error_of(ctx, bad)

    assert (error.status, error.code) == (422, code)
    assert "bad.mp4" in error.message


def test_an_audio_only_file_is_not_a_video(ctx, tmp_path):
    path = tmp_path / "song.mkv"
    import av

    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4096), np.float32), "fltp", "mono")
        frame.sample_rate = 48000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

    error = error_of(ctx, path)

    assert (error.status, error.code) == (422, "NOT_A_VIDEO")


def test_a_still_image_is_not_a_video(ctx, fixtures):
    with pytest.raises(ToolError) as caught:
        runner.execute(video_upscale.TOOL, [source(fixtures / "photo.jpg")], {}, ctx)
    assert (caught.value.status, caught.value.code) == (422, "NOT_A_VIDEO")


def test_a_text_file_named_mp4_is_refused_at_upload(tmp_path):
    path = tmp_path / "movie.mp4"
    path.write_text("not a video at all\n")
    with pytest.raises(ToolError) as caught:
        source(path)
    assert (caught.value.status, caught.value.code) == (400, "UNSUPPORTED_FORMAT")


def test_image_tools_refuse_a_video(tmp_path):
    clip = source(vs.make(tmp_path, frames=4))
    ctx = Context(scratch_dir=tmp_path / "scratch")
    for tool_id in ("resize", "bulk-rename", "info"):
        with pytest.raises(ToolError) as caught:
            runner.execute(
                registry.get(tool_id), [clip], {"width": 10} if tool_id == "resize" else {}, ctx
            )
        assert (caught.value.status, caught.value.code) == (400, "UNSUPPORTED_FORMAT")
        assert "video-upscale" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"startTime": 2, "endTime": 1}, "endTime"),
        ({"targetShortEdge": 61}, "targetShortEdge"),
        ({"codec": "mpeg2"}, "codec"),
        ({"tileSize": 8}, "tileSize"),
    ],
)
def test_bad_settings_are_400_naming_the_field(raw, field):
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(video_upscale.TOOL, raw)
    assert caught.value.status == 400 and field in caught.value.message


def test_a_start_time_past_the_end_is_400(ctx, tmp_path):
    error = error_of(ctx, vs.make(tmp_path, frames=8), startTime=5)

    assert (error.status, error.code) == (400, "INVALID_SETTINGS")


def test_webm_cannot_be_asked_to_hold_h264(ctx, tmp_path):
    error = error_of(ctx, vs.make(tmp_path, frames=4), container="webm")

    assert (error.status, error.code) == (400, "INVALID_SETTINGS")


# --- progress, cancel, resume ----------------------------------------------------------------


def test_progress_counts_frames_with_fps_and_eta(ctx, tmp_path):
    messages: list[str] = []
    ctx = ctx.derive(progress=lambda percent, message="": messages.append(message))

    upscale_video(ctx, vs.make(tmp_path, frames=8, audio=False))

    framed = [m for m in messages if m.startswith("frame ")]
    assert framed[0].startswith("frame 1/8 (") and framed[-1].startswith("frame 8/8 (")
    assert "fps" in framed[0] and "ETA" in framed[0]


def test_a_cancel_stops_within_one_frame(ctx, tmp_path):
    seen: list[str] = []

    def progress(percent: float, message: str = "") -> None:
        seen.append(message)

    ctx = ctx.derive(
        progress=progress, is_cancelled=lambda: any(m.startswith("frame 2/") for m in seen)
    )
    with pytest.raises(Cancelled):
        upscale_video(ctx, vs.make(tmp_path, frames=16, audio=False))

    assert not any(m.startswith("frame 3/") for m in seen)


class Crash(BaseException):
    """A worker dying mid-video (not an Exception: nothing may catch it)."""


def test_a_crashed_run_resumes_after_its_last_finished_segment(ctx, tmp_path):
    limits.configure(segment_seconds=0.5)  # 4 frames a segment at 8 fps
    clip = vs.make(tmp_path, frames=16)

    def crash_at_frame_10(percent: float, message: str = "") -> None:
        if message.startswith("frame 10/"):
            raise Crash()

    with pytest.raises(Crash):
        upscale_video(ctx.derive(progress=crash_at_frame_10), clip)
    resumed = upscale_video(ctx, clip)
    whole = upscale_video(ctx.derive(scratch_dir=tmp_path / "other"), clip)

    assert resumed.extras["resumedAfterFrames"] == 8  # two segments were finished
    assert resumed.extras["frames"] == 16
    after = vs.probe(resumed.path)
    assert after.pts_seconds == vs.probe(clip).pts_seconds
    assert after.audio_seconds == pytest.approx(vs.probe(clip).audio_seconds, abs=1 / 8)
    frames, reference = decoded_rgb(resumed.path), decoded_rgb(whole.path)
    assert len(frames) == 16
    assert all(
        np.abs(a.astype(int) - b.astype(int)).mean() < 1
        for a, b in zip(frames, reference, strict=True)
    )
    assert not (ctx.scratch_dir / video_upscale.SEGMENTS_FOLDER).exists()  # cleaned up


def test_segments_made_with_other_settings_are_not_reused(ctx, tmp_path):
    limits.configure(segment_seconds=0.5)
    clip = vs.make(tmp_path, frames=12, audio=False)

    def crash(percent: float, message: str = "") -> None:
        if message.startswith("frame 6/"):
            raise Crash()

    with pytest.raises(Crash):
        upscale_video(ctx.derive(progress=crash), clip)
    output = upscale_video(ctx, clip, crf=30)

    assert "resumedAfterFrames" not in output.extras
    assert vs.probe(output.path).frames == 12


# --- the model side ---------------------------------------------------------------------


def test_a_batch_of_frames_gives_the_pixels_of_single_runs(ctx, tmp_path):
    spec = catalog()["realesr-animevideov3"]
    session = onnx_session.for_model(ctx, spec, spec.file_for_scale(2))
    frames = [vs.picture(i, 40, 30) for i in (0, 5, 9)]

    batched = enlarge.run_esrgan(session, frames, 2, 24, ctx)  # several tiles too
    single = [realesrgan.upscale(session, f, scale=2, ctx=ctx, tile=24) for f in frames]

    assert all(np.array_equal(a, b) for a, b in zip(batched, single, strict=True))


# --- memory -----------------------------------------------------------------------------

MEMORY_RUN = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from tests.shipped_models import shipped_models_dir
    from tools import imaging, runner, video_upscale
    from tools.base import Context
    clip = Path(sys.argv[1])
    scratch = clip.parent / ("scratch-" + clip.stem)
    ctx = Context(scratch_dir=scratch, model_dir=shipped_models_dir())
    settings = {"targetShortEdge": 480, "preset": "fast", "keepAudio": True}
    out = runner.execute(video_upscale.TOOL, [imaging.open_source(clip, clip.name)], settings, ctx)
    print(out.extras["frames"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def peak_rss_kb(clip: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_RUN, str(clip)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    frames, peak = done.stdout.split()[-2:]
    return int(frames), int(peak)


def test_memory_is_flat_in_the_videos_length(tmp_path):
    """60 s vs 6 s of video at 4 fps (240 vs 24 frames, with audio), each in a fresh
    process. The model sees 16x12 frames (cheap), but the pipeline carries 640x480 frames
    after the resize to targetShortEdge 480: held instead of streamed, the long video's
    would take 220 MB, more than the whole process needs (about 200 MB)."""
    short = vs.make(tmp_path, "short.mp4", width=16, height=12, frames=24, fps=4)
    long = vs.make(tmp_path, "long.mp4", width=16, height=12, frames=240, fps=4)

    short_frames, short_peak = peak_rss_kb(short)
    long_frames, long_peak = peak_rss_kb(long)

    assert (short_frames, long_frames) == (24, 240)
    assert long_peak <= short_peak * 1.10, (short_peak, long_peak)
