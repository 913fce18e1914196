"""A user's own footage, made at tiny sizes with the shipped ffmpeg (lavfi testsrc2): an audio track,
10-bit, rotation metadata, an odd size, a variable frame rate. Each either works, with one note
line saying what was adapted, or is refused with one clear line."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from synth.cli import main
from synth.video import FFMPEG, footage, iter_frames, probe, read_clip


def make(path, *args: str, seconds: float = 1.0, size: str = "64x48", rate: int = 10) -> None:
    src = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    subprocess.run([FFMPEG, "-y", "-loglevel", "error", *src, *args, str(path)], check=True)


def degrade(src, out, *extra: str) -> int:
    return main(["degrade", f"src={src}", f"out={out}", "degradation=[low_light]", "degradation.low_light.ev=-1", *extra])


def test_audio_track_is_dropped_and_said_so(tmp_path, capsys):
    src = tmp_path / "talk.mp4"
    subprocess.run([FFMPEG, "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(src)], check=True)  # fmt: skip
    assert degrade(src, tmp_path / "out.mp4") == 0
    assert "audio track dropped" in capsys.readouterr().out
    banner = subprocess.run([FFMPEG, "-hide_banner", "-i", str(tmp_path / "out.mp4")], capture_output=True, text=True)
    assert "Audio:" not in banner.stderr and len(read_clip(tmp_path / "out.mp4")[0]) == 10


def test_ten_bit_input_is_decoded_to_eight_bits(tmp_path, capsys):
    src, ref = tmp_path / "ten.mkv", tmp_path / "eight.mkv"
    make(src, "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-qp", "0")
    make(ref, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-qp", "0")
    assert probe(src)["pix_fmt"] == "yuv420p10le"
    frames = np.concatenate([f for _, _, f in iter_frames(src, chunk=4)])
    # the same picture in 8 bits (ffmpeg's 10-to-8-bit path upsamples chroma a little differently)
    assert frames.dtype == np.uint8 and np.abs(frames.astype(int) - read_clip(ref)[0]).mean() < 4.5
    assert degrade(src, tmp_path / "out.mp4") == 0
    assert "yuv420p10le input: decoded to 8 bits" in capsys.readouterr().out


def test_rotation_metadata_is_applied(tmp_path, capsys):
    flat, src = tmp_path / "flat.mp4", tmp_path / "turned.mp4"
    make(flat, "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p")
    # the same stream, with a display matrix that says "turn 90° to show it" (a phone held upright)
    subprocess.run([FFMPEG, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(flat), "-c", "copy",
                    str(src)], check=True)  # fmt: skip
    info = footage(src)
    assert (info.width, info.height) == (48, 64) and "rotation metadata 90°: applied" in info.notes[0]
    upright = np.concatenate([f for _, _, f in iter_frames(src, chunk=3)])
    assert np.array_equal(upright, np.rot90(read_clip(flat)[0], k=1, axes=(1, 2)))  # turned counter-clockwise
    out = tmp_path / "out.mkv"
    assert degrade(src, out, "video.lossless=true") == 0
    assert read_clip(out)[0].shape == (10, 64, 48, 3)


def test_odd_sizes_are_cropped_for_420_and_kept_lossless(tmp_path, capsys):
    src = tmp_path / "odd.mkv"
    make(src, "-vf", "scale=63:47", "-c:v", "ffv1")
    assert degrade(src, tmp_path / "out.mp4") == 0
    assert "odd size 63x47: cropped to 62x46" in capsys.readouterr().out
    assert read_clip(tmp_path / "out.mp4")[0].shape == (10, 46, 62, 3)
    assert degrade(src, tmp_path / "out.mkv", "video.lossless=true") == 0
    assert read_clip(tmp_path / "out.mkv")[0].shape == (10, 47, 63, 3)


def test_variable_frame_rate_is_resampled_by_timestamps(tmp_path, capsys):
    src = tmp_path / "vfr.mkv"
    # 10 frames 0.1 s apart, then 20 frames 0.05 s apart: 10 fps, then 20 fps
    make(src, "-vf", "setpts='if(lt(N,10),N*2,20+(N-10))/(20*TB)'", "-fps_mode", "passthrough", "-c:v", "ffv1",
         seconds=1.5, rate=20)  # fmt: skip
    info = footage(src)
    assert info.fps == 20.0 and "variable frame rate (10..20 fps)" in info.notes[0]
    chunks = list(iter_frames(src, chunk=7))
    idx, times = np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
    assert np.array_equal(idx, np.arange(40)) and np.allclose(times, idx / 20.0)
    frames = np.concatenate([c[2] for c in chunks])
    cmd = [FFMPEG, "-loglevel", "error", "-i", str(src), "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    stored = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.uint8).reshape(30, 48, 64, 3)
    stamps = np.r_[np.arange(10) * 0.1, 1 + np.arange(20) * 0.05]
    # output frame i (at i / 20 s) shows a stored frame stamped within half an output interval of it,
    # and no stored frame is lost
    used = set()
    for i, frame in enumerate(frames):
        near = [k for k in range(30) if abs(stamps[k] - i / 20) <= 0.05 + 1e-9 and np.array_equal(frame, stored[k])]
        assert near, i
        used.update(near)
    assert used == set(range(30))
    assert degrade(src, tmp_path / "out.mp4") == 0
    got, fps = read_clip(tmp_path / "out.mp4")
    assert fps == 20.0 and len(got) == 40


@pytest.mark.parametrize("kind", ["audio only", "not a video"])
def test_what_is_not_a_video_is_one_line(tmp_path, capsys, kind):
    src = tmp_path / "in.m4a"
    if kind == "audio only":
        subprocess.run([FFMPEG, "-y", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=0.5", str(src)], check=True)
    else:
        src.write_text("hello")
    assert degrade(src, tmp_path / "out.mp4") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synth: error:") and str(src) in err and "\n" not in err
    assert not (tmp_path / "out.mp4").exists()


def test_chunks_equal_the_whole_decode(tmp_path):
    src = tmp_path / "c.mp4"
    make(src, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "3", seconds=2.0)
    chunks = list(iter_frames(src, chunk=6))
    assert [len(c[2]) for c in chunks] == [6, 6, 6, 2]
    assert np.array_equal(np.concatenate([c[2] for c in chunks]), read_clip(src)[0])


def test_degrade_memory_does_not_grow_with_clip_length(tmp_path, monkeypatch):
    """`synth degrade` holds a bounded number of frames, whatever the clip length (no timing): the
    frames decoded but not yet handed to the encoder stay under a chunk plus the stages' margins."""
    import synth.delivery as delivery

    pulled, written, peak = [0], [0], [0]
    real_iter, real_write = delivery.iter_frames, delivery.ClipWriter.write

    def counting_iter(*args, **kwargs):
        for chunk in real_iter(*args, **kwargs):
            pulled[0] += len(chunk[2])
            peak[0] = max(peak[0], pulled[0] - written[0])
            yield chunk

    def counting_write(self, frames):
        written[0] += len(frames)
        real_write(self, frames)

    monkeypatch.setattr(delivery, "MAX_CHUNK", 4)  # small chunks: short clips span many
    monkeypatch.setattr(delivery, "iter_frames", counting_iter)
    monkeypatch.setattr(delivery.ClipWriter, "write", counting_write)
    peaks = []
    for seconds in (2, 6):
        src = tmp_path / f"s{seconds}.mp4"
        make(src, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", seconds=seconds, size="32x16")
        pulled[0] = written[0] = peak[0] = 0
        assert main(["degrade", f"src={src}", f"out={tmp_path / f'o{seconds}.mp4'}", "degradation=[rolling_shutter]",
                     "degradation.rolling_shutter.readout_frac=0.5"]) == 0  # fmt: skip
        assert written[0] == pulled[0] == 10 * seconds
        peaks.append(peak[0])
    assert peaks[0] == peaks[1] == 4 + 1  # one chunk and the stage's one-frame margin
