"""waitress's own refusals (malformed request line, bad Content-Length or chunking, a body over the
limit) as JSON ``{"error": ...}`` like every answer of the app, instead of waitress's plain text.

These requests never reach Flask: waitress answers them while parsing, before any body is read.
"""

from __future__ import annotations

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from .replies import error_body

# waitress answers an unknown Transfer-Encoding with 501; it is the client's request that is wrong.
_STATUS = {501: (400, "Bad Request")}


class JsonErrorTask(ErrorTask):
    """The error waitress found while parsing, as a JSON body with the same status (a 4xx)."""

    too_large_message = "request body is too large"

    def execute(self) -> None:
        error = self.request.error
        code, reason = _STATUS.get(error.code, (error.code, error.reason))
        message = self.too_large_message if code == 413 else f"{reason}: {error.body}"
        body = error_body(message)
        self.status = f"{code} {reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def json_error_channel(too_large_message: str) -> type[HTTPChannel]:
    """A waitress channel class whose protocol errors are JSON; 413s say ``too_large_message``."""
    task = type("SizedJsonErrorTask", (JsonErrorTask,), {"too_large_message": too_large_message})
    return type("JsonErrorChannel", (HTTPChannel,), {"error_task_class": task})
