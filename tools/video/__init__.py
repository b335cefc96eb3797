"""Video: the engine behind `video-upscale` (PyAV, whose wheels carry FFmpeg).

`formats` sniffs video containers and is light (no PyAV import), so `tools.imaging` may use
it; the other modules import PyAV and are loaded only when a video job runs.
"""
