"""MagicEraser: offline LaMa photo eraser (engine, HTTP API, web UI, CLI)."""

__version__ = "0.1.0"
