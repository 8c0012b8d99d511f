"""Flask application factory and the waitress runner behind ``magiceraser serve``."""

from __future__ import annotations

import faulthandler
import ipaddress
import logging
import resource
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, has_request_context, jsonify, request, send_from_directory
from waitress.server import create_server
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from .api import Runtime, bp
from .common import url_for_host
from .engine import load_engine
from .errors import ApiError, ImageError, QueueFull
from .imageio import DEFAULT_MAX_PIXELS
from .jobqueue import InferenceQueue
from .protocol_errors import json_error_channel
from .replies import public_message

log = logging.getLogger("magiceraser.server")

WEB_DIR = Path(__file__).resolve().parent / "web"

DEFAULTS = {
    "ENGINE": None,            # an Engine instance; when None one is loaded from MODEL/THREADS/MKLDNN
    "MODEL": None,
    "THREADS": None,
    "MKLDNN": True,
    "MAX_WAITING": 2,          # requests queued behind the running one before 503
    "MAX_PIXELS": DEFAULT_MAX_PIXELS,
    "MAX_CONTENT_LENGTH": 100 * 2**20,
    "CORS_ORIGINS": None,      # None: loopback origins only; or a list of origins, "*" for any
}


#: waitress's connection handling (docs/api.md, "Limits"). Slow clients hold a connection each but no
#: thread, so only the connection count can run out: it is set far above what a few clients trickling
#: bytes can hold (waitress's default, 100, let 100 of them lock every later client out), polled with
#: poll(2) (select(2) stops at descriptor 1024), and an idle connection is closed after a minute.
CONNECTION_LIMITS = {"connection_limit": 1000, "channel_timeout": 60, "cleanup_interval": 10,
                     "asyncore_use_poll": True}


class WebPath(PathConverter):
    """Any path outside the API, so a GET on an API route is a 405 rather than a missing web file."""

    regex = r"(?!api/|api$|predict$)[^/].*?"


def _error(message: str, status: int, headers: dict | None = None):
    response = jsonify(error=public_message(message))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _register_error_handlers(app: Flask) -> None:
    """Every failure becomes JSON with a meaningful status; never an HTML page or a traceback."""

    @app.errorhandler(ImageError)
    @app.errorhandler(ApiError)
    def client_error(exc):
        return _error(str(exc), exc.status)

    @app.errorhandler(QueueFull)
    def busy(exc: QueueFull):
        return _error(str(exc), 503, {"Retry-After": str(exc.retry_after)})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description or exc.name
        if exc.code == 413:
            message = _too_large_message(app)
        return _error(message, exc.code or 500)

    @app.errorhandler(MemoryError)
    def out_of_memory(exc):
        log.error("out of memory while erasing", exc_info=exc)
        return _error("out of memory while erasing: use a smaller image or a crop/resize strategy", 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.error("unexpected error while handling a request", exc_info=exc)
        return _error(f"internal error: {type(exc).__name__}: {exc}", 500)


def _too_large_message(app: Flask) -> str:
    """Why werkzeug refused the body: over the request limit, or a multipart form over its own limits."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    if has_request_context() and request.content_length is not None and request.content_length <= limit \
            and request.mimetype.startswith("multipart"):
        return (f"multipart form too large: at most {app.config['MAX_FORM_PARTS']:,} parts and "
                f"{app.config['MAX_FORM_MEMORY_SIZE']:,} bytes per text field; send the image and mask as files")
    return f"request is larger than {limit:,} bytes; send a smaller image"


def create_app(config: Mapping | None = None) -> Flask:
    """The MagicEraser web app: API routes, the web UI at ``/`` and JSON errors.

    ``config`` overrides DEFAULTS; pass ``ENGINE`` to reuse an already loaded engine."""
    app = Flask("magiceraser", static_folder=None)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    engine = app.config["ENGINE"]
    if engine is None:
        engine = load_engine(model=app.config["MODEL"], threads=app.config["THREADS"], mkldnn=app.config["MKLDNN"])
    app.extensions["magiceraser"] = Runtime(engine=engine, queue=InferenceQueue(app.config["MAX_WAITING"]))
    app.register_blueprint(bp)
    _register_error_handlers(app)

    app.url_map.converters["webpath"] = WebPath

    @app.get("/")
    def index():
        return send_from_directory(WEB_DIR, "index.html")

    @app.get("/<webpath:filename>")
    def web_file(filename: str):
        return send_from_directory(WEB_DIR, filename)

    return app


def exposure_warning(host: str) -> str | None:
    """A warning when ``host`` lets other machines reach the server (and the photos sent to it)."""
    try:
        private = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        private = False
    if private:
        return None
    return (f"warning: listening on {host}: anyone who can reach this machine can use the eraser and see the "
            "photos sent to it; use --host 127.0.0.1 to keep it private")


def _allow_descriptors(wanted: int) -> None:
    """Raise the open-file limit towards ``wanted`` (one descriptor per connection), as far as the
    hard limit allows: a process limit of 1024 would otherwise cap the connections first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))


def _dump_stacks_on(signum: int) -> None:
    """``kill -USR1 PID`` writes every thread's Python stack to stderr (the service log) and the
    service goes on: where a stuck request waits, without stopping it."""
    faulthandler.register(signum, file=sys.stderr, all_threads=True, chain=False)


def serve(app: Flask, host: str = "127.0.0.1", port: int = 7777) -> None:
    """Listen (OSError if the port is taken), print the URL, then serve until interrupted.

    Threads: the running inference, the waiting ones, and spare ones so health checks and
    503 answers never queue behind an inference. waitress reads each body in full before a thread
    sees it (so a slow upload holds no thread and no place in the queue) and refuses a body of
    over twice the limit from its Content-Length alone."""
    _allow_descriptors(CONNECTION_LIMITS["connection_limit"] + 100)
    _dump_stacks_on(signal.SIGUSR1)
    server = create_server(app, host=host, port=port, threads=app.config["MAX_WAITING"] + 3,
                           max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"], ident="magiceraser",
                           **CONNECTION_LIMITS)
    server.channel_class = json_error_channel(_too_large_message(app))
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr)
    info = app.extensions["magiceraser"].engine.info()
    print(f"MagicEraser on {url_for_host(host, port)} "
          f"(engine {info.get('engine')}, model {info.get('model_path') or 'none'})", flush=True)
    if info.get("model_missing_hint"):
        print(info["model_missing_hint"], file=sys.stderr, flush=True)
    try:
        server.run()
    finally:
        server.close()
