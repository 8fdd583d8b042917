"""A git smart-HTTP server on 127.0.0.1 that demands a token, as GitHub does of a workflow (or,
without one, a public repository's URL):
git's own `git http-backend` (CGI) behind Python's HTTP server with basic auth."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

USER = "x-access-token"  # the user name GitHub expects with an installation token


class GitHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, token: str | None):
        """Serve the repositories under ``root``; with ``token`` None, anyone may read and push."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root, self.token = root, token
        self.refused = 0  # requests without the token: each a 401
        self.served = 0  # requests that reached git http-backend

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def __enter__(self) -> GitHTTPServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitHTTPServer

    def log_message(self, *args) -> None:  # quiet: pytest shows failures, not every request
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorised(self) -> bool:
        if self.server.token is None:
            return True
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        expected = base64.b64encode(f"{USER}:{self.server.token}".encode()).decode()
        return scheme.lower() == "basic" and credentials.strip() == expected  # checkout writes "basic"

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _serve(self) -> None:
        body = self._body()
        if not self._authorised():
            self.server.refused += 1
            self._reply(401, [("WWW-Authenticate", 'Basic realm="git"')], b"token required\n")
            return
        self.server.served += 1
        path, _, query = self.path.partition("?")
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",
               "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
               "REMOTE_USER": USER, "REMOTE_ADDR": "127.0.0.1"}  # fmt: skip
        cgi = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = cgi.partition(b"\r\n\r\n") if b"\r\n\r\n" in cgi else cgi.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode().splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self._reply(status, headers, payload)
