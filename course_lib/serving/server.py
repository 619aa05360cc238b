"""uvicorn, set up for the service: JSON errors at the HTTP level, a header timeout, plain logs.

uvicorn's HTTP/1.1 protocol (h11) is kept and changed in two places by :class:`ServiceProtocol`:

- a request that is not valid HTTP (or whose headers are over 16 KiB) gets a JSON 400, not a
  plain-text one;
- a request whose headers have not arrived ``header_timeout`` seconds after its first byte (or
  after the connection opened) gets a JSON 408 and the connection is closed. Plain uvicorn waits
  forever for the rest of the headers, so a client could hold connections open at no cost.

:func:`logging_config` gives uvicorn's and the service's loggers one plain format (no colours)
with an access log line per request; :func:`serve` runs the app.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ServiceProtocol", "protocol_with_timeout", "logging_config", "serve"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _raw_json_response(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode("latin-1") + body


class ServiceProtocol(H11Protocol):
    """uvicorn's h11 protocol with JSON 400s and a ``header_timeout`` (seconds) for each request's headers."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        import h11

        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:      # part of a request has arrived: say why it is dropped
            self.logger.info("a request's headers did not arrive within %g s; closing the connection",
                             self.header_timeout)
            self.transport.write(_raw_json_response(
                408, "Request Timeout", f"the request's headers did not arrive within {self.header_timeout:g} s"))
        self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        import h11

        if self.transport.is_closing():
            self._disarm_header_timer()
        elif self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            self._arm_header_timer()        # waiting for (the rest of) a request's headers
        else:
            self._disarm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._disarm_header_timer()
        self.transport.write(_raw_json_response(
            400, "Bad Request", "the request is not valid HTTP/1.1 (its request line or headers are malformed, "
                                "or the headers are larger than 16 KiB)"))
        self.transport.close()


def protocol_with_timeout(header_timeout: float) -> type[ServiceProtocol]:
    """A :class:`ServiceProtocol` subclass whose header timeout is ``header_timeout`` seconds."""
    return type("ServiceProtocol", (ServiceProtocol,), {"header_timeout": float(header_timeout)})


def logging_config(level: str = "info", access_log: bool = True) -> dict:
    """uvicorn's logging configuration, without colours, with the ``course_lib.serving`` logger added."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["use_colors"] = False
        formatter["fmt"] = "%(asctime)s " + formatter["fmt"].replace("%(levelprefix)s", "%(levelname)s:")
    config["loggers"]["course_lib.serving"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"]["uvicorn"]["level"] = level.upper()
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def serve(app: Any, host: str, port: int, *, header_timeout: float, log_level: str = "info",
          access_log: bool = True, max_connections: int = 1024) -> None:
    """Run ``app`` with uvicorn on ``host:port`` until SIGINT/SIGTERM (graceful shutdown, 5 s)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, http=protocol_with_timeout(header_timeout),
                            log_config=logging_config(log_level, access_log), log_level=log_level,
                            access_log=access_log, limit_concurrency=max_connections,
                            timeout_keep_alive=5, timeout_graceful_shutdown=5, server_header=False)
    uvicorn.Server(config).run()
