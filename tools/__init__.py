"""The Pixelsmith engine: image tools as pure Python. Never imports Django."""
