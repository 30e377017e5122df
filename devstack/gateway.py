"""The HTTP API on a local port: routes, authorizers, payload-2.0 integration."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.authorizer import Allowed, Authorizers
from devstack.http_event import (
    HttpRequest,
    HttpResponse,
    InvalidResponse,
    integration_event,
    json_response,
    map_response,
    new_request_id,
    request_parts,
)
from devstack.logs import LogSink
from devstack.routing import RouteMatch, Router
from devstack.runtime import Invoker
from devstack.sam import ApiSpec, RouteSpec

# API Gateway's words; Python 3.13 renamed HTTPStatus(413).phrase "Content Too Large"
_TOO_LARGE = json_response(413, {"message": "Request Entity Too Large"})
# HTTP APIs refuse request payloads over 10 MB
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def _refusal(status: int) -> HttpResponse:
    """API Gateway's own answer: 401, 403, 404, 500 or 503 with its reason phrase."""
    return json_response(status, {"message": HTTPStatus(status).phrase})


@dataclass(frozen=True)
class _Mounted:
    """What `mount` gave: the APIs, and their routes by stage (a named stage prefixes the path)."""

    apis: Mapping[str, ApiSpec]
    routers: Mapping[str, Router]
    invoke: Invoker
    authorizers: Authorizers

    def select(self, method: str, raw_path: str) -> RouteMatch | None:
        for stage, router in self.routers.items():
            prefix = f"/{stage}"
            if stage != "$default" and (raw_path == prefix or raw_path.startswith(prefix + "/")):
                return router.match(method, raw_path[len(prefix) :] or "/")
        default = self.routers.get("$default")
        return default.match(method, raw_path) if default is not None else None


class Gateway:
    """Binds its port at construction (so the URL is known early); `mount` adds the routes."""

    def __init__(self, log: LogSink, host: str = "127.0.0.1", port: int = 0) -> None:
        self._log = log
        self._mounted: _Mounted | None = None
        self._host = host
        self._server = _Server((host, port), _Handler)
        self._server.gateway = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    def mount(
        self,
        apis: Mapping[str, ApiSpec],
        routes: Sequence[RouteSpec],
        invoke: Invoker,
        region: str,
    ) -> None:
        stages: dict[str, list[RouteSpec]] = {}
        for route in routes:
            stages.setdefault(apis[route.api_logical_id].stage, []).append(route)
        routers = {stage: Router(stage_routes) for stage, stage_routes in stages.items()}
        authorizers = Authorizers(invoke, region, self._log)
        self._mounted = _Mounted(dict(apis), routers, invoke, authorizers)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="gateway",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request as API Gateway would."""
        started = time.monotonic()
        mounted = self._mounted
        match = mounted.select(request.method, request.raw_path) if mounted is not None else None
        response = self._answer(mounted, request, match)
        elapsed = (time.monotonic() - started) * 1000
        # the one line per request of `make run` (the functions' own output is detail)
        self._log(
            f"[gateway] {request.method} {request.raw_path} {response.status} {elapsed:.0f}ms "
            f"{match.route.function_logical_id if match is not None else '-'}"
        )
        return response

    def _answer(
        self, mounted: _Mounted | None, request: HttpRequest, match: RouteMatch | None
    ) -> HttpResponse:
        if mounted is None:
            return _refusal(503)
        if match is None:
            return _refusal(404)
        route = match.route
        api = mounted.apis[route.api_logical_id]
        parts = request_parts(
            request, route_key=route.route_key, path_parameters=match.path_parameters, api=api
        )
        authorizer = None
        if route.authorizer is not None:
            decision = mounted.authorizers.authorize(
                api.authorizers[route.authorizer], api, request, parts
            )
            if not isinstance(decision, Allowed):
                return _refusal(decision.status)
            authorizer = decision.authorizer
        event = integration_event(request, parts, authorizer)
        result = mounted.invoke(route.function_logical_id, event)
        if not result.ok:
            return _refusal(500)
        try:
            return map_response(result.payload)
        except InvalidResponse as error:
            self._log(
                f"[gateway] {route.function_logical_id} returned an invalid response: {error}"
            )
            return _refusal(500)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devstack"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """The gateway logs each request itself."""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks: list[bytes] = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(max(0, int(self.headers.get("content-length") or 0)))

    def _reply(self, response: HttpResponse, request_id: str) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("apigw-requestid", request_id)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _serve(self) -> None:
        if int(self.headers.get("content-length") or 0) > MAX_REQUEST_BYTES:
            self.close_connection = True  # the body is not read
            self._reply(_TOO_LARGE, new_request_id())
            return
        body = self._read_body()
        raw_path, _, raw_query = self.path.partition("?")
        request = HttpRequest(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=tuple(
                (name, value)
                for name, value in self.headers.items()
                if name.lower() != "transfer-encoding"
            ),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        self._reply(self.server.gateway.handle(request), request.request_id)

    def __getattr__(self, name: str) -> Any:
        # `do_<METHOD>` for every method, TRACE or QUERY too: an HTTP API hands a method no
        # route has to `$default`, which answers 404 or 405 in our shape, never the server's
        # 501 page.
        if name.startswith("do_") and name[3:].isupper():
            return self._serve
        raise AttributeError(name)
