"""What protects the service from its clients: a concurrency limit, a body reader with limits, allowed hosts.

- :class:`Limiter`: at most ``concurrency`` requests are read, validated and predicted at once; at
  most ``queue`` more wait for a turn, each for at most ``timeout`` seconds. Anything beyond is
  refused at once with :class:`Overloaded` (503 and ``Retry-After``). Because a request's body is
  read only once it has its turn, the memory the service holds for request bodies is bounded by
  ``concurrency x max_body_bytes`` (plus the parsed arrays of those requests), however many
  clients send at once: the others wait in the operating system's socket buffers.
- :func:`read_body`: the body, at most ``max_body_bytes`` of it, within ``timeout`` seconds.
- :class:`AllowedHosts`: an ASGI middleware that refuses a ``Host`` header not on its list (400),
  so a web page cannot reach a service on 127.0.0.1 through a DNS name that points there
  (DNS rebinding).

Every refusal raises or answers with a JSON ``{"detail": ...}`` that says what was wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, AsyncIterator, Iterable

from course_lib.serving.validation import RequestError

__all__ = ["LOOPBACK_NAMES", "Overloaded", "Limiter", "read_body", "AllowedHosts", "host_name"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class Overloaded(Exception):
    """The service is too busy for this request: answer 503 with ``Retry-After: retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Limiter:
    """At most ``concurrency`` requests at work, ``queue`` more waiting up to ``timeout`` seconds each.

    >>> limiter = Limiter(concurrency=4, queue=64, timeout=10.0)
    >>> async with limiter.turn():      # raises Overloaded when the queue is full or the wait too long
    ...     ...                         # read, validate, predict
    """

    def __init__(self, concurrency: int, queue: int, timeout: float):
        self.concurrency = concurrency
        self.queue = queue
        self.timeout = timeout
        self.waiting = 0            # requests waiting for a turn
        self.working = 0            # requests that have one
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def full(self) -> bool:
        """True when a new request would be refused at once."""
        return self.waiting >= self.queue and self.working >= self.concurrency

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn (at most ``timeout`` seconds); raise :class:`Overloaded` if there is none."""
        if self._semaphore is None:          # created in the event loop that uses it
            self._semaphore = asyncio.Semaphore(self.concurrency)
        if self._semaphore.locked() and self.waiting >= self.queue:
            raise Overloaded(f"the service is at its limit ({self.concurrency} requests at work and "
                             f"{self.waiting} waiting); try again in a moment")
        self.waiting += 1
        try:
            async with asyncio.timeout(self.timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise Overloaded(f"no worker was free within {self.timeout:g} s; try again in a moment") from None
        finally:
            self.waiting -= 1
        self.working += 1
        try:
            yield
        finally:
            self.working -= 1
            self._semaphore.release()


async def read_body(request: Any, max_body_bytes: int, timeout: float) -> bytes:
    """The request's body, refused with 413 over ``max_body_bytes`` and 408 when slower than ``timeout`` s.

    A body announced (``Content-Length``) as larger than the limit is refused before it is read, and
    reading stops as soon as an unannounced (chunked) body passes the limit: uvicorn reads the rest
    and drops it, so the client, still sending, receives the 413 rather than a reset connection. A
    client that disconnects mid-body raises ``starlette.requests.ClientDisconnect``.
    """
    too_big = RequestError(413, f"the body is larger than {max_body_bytes} bytes; split the batch into "
                                "smaller requests")
    declared = request.headers.get("content-length")
    if declared is not None and not declared.strip().isdigit():
        raise RequestError(400, "the Content-Length header is not a number")
    if declared is not None and int(declared) > max_body_bytes:
        raise too_big
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body_bytes:
                    break
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, f"the body did not arrive within {timeout:g} s; send it at once") from None
    if size > max_body_bytes:
        raise too_big
    return b"".join(chunks)


def host_name(host_header: str) -> str:
    """The name in a ``Host`` header, lower case, without the port: ``[::1]:5000`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):                         # [IPv6]:port
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:                         # name:port
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class AllowedHosts:
    """ASGI middleware: a request whose ``Host`` header names a host not in ``hosts`` gets a JSON 400.

    ``"*"`` in ``hosts`` allows every host. A request without a ``Host`` header (HTTP/1.0) passes:
    browsers always send one, and DNS rebinding needs a browser.
    """

    def __init__(self, app: Any, hosts: Iterable[str]):
        self.app = app
        self.hosts = frozenset(host_name(h) for h in hosts)
        if not self.hosts:
            raise ValueError("allowed hosts must name at least one host (or '*' for any)")

    def allows(self, host_header: str) -> bool:
        """True when a request with this ``Host`` header may reach the service."""
        return "*" in self.hosts or host_name(host_header) in self.hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), None)
            if host is not None and not self.allows(host):
                shown = host if len(host) <= 60 else host[:60] + "..."
                known = ", ".join(sorted(self.hosts))
                body = json.dumps({"detail": f"the Host header {shown!r} is not one this service answers to "
                                             f"({known}); start it with --allowed-host NAME to add one"}).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
