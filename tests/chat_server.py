"""A real HTTP server on 127.0.0.1 speaking /v1/chat/completions, for tests of the OpenAI path.

It answers deterministically through `responder(body)`, which returns the text, (text, finish_reason) or a
raw body dict; it counts every POST, records the bodies and headers it answered, and can answer error
statuses on demand: `fail` is a queue of statuses for the next requests, `fail_when(body)` picks a status
per request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def prompt_of(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


class ChatServer:
    def __init__(self, responder: Callable[[dict[str, Any]], Any]) -> None:
        self.responder = responder
        self.posts = 0
        """Every POST received, errors included."""
        self.answered: list[dict[str, Any]] = []
        """Bodies answered with 200 (the 'paid' responses)."""
        self.headers: list[dict[str, str]] = []
        self.fail: list[int] = []
        self.fail_when: Callable[[dict[str, Any]], int | None] | None = None
        self.delay = 0.0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset_counts(self) -> None:
        with self.lock:
            self.posts = 0
            self.answered.clear()
            self.headers.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with server.lock:
                    server.posts += 1
                    status = (
                        server.fail.pop(0)
                        if server.fail
                        else (server.fail_when(body) if server.fail_when else None)
                    )
                if server.delay:
                    time.sleep(server.delay)
                if status:
                    # retry-after-ms keeps the client's backoff short in tests
                    self._send(
                        status,
                        {"error": {"message": f"forced {status}", "type": "test"}},
                        {"retry-after-ms": "5"},
                    )
                    return
                out = server.responder(body)
                if isinstance(out, dict):  # a raw body, e.g. a malformed one
                    self._send(200, out)
                    return
                text, finish = out if isinstance(out, tuple) else (out, "stop")
                with server.lock:
                    server.answered.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                n_in = sum(len(m["content"].split()) for m in body["messages"])
                self._send(
                    200,
                    {
                        "id": f"cmpl-{len(server.answered)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": finish,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": n_in,
                            "completion_tokens": len(text.split()),
                            "total_tokens": n_in + len(text.split()),
                        },
                    },
                )

        return Handler


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
