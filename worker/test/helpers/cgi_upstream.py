# A CGI/WSGI-style upstream for the worker's hardening tests, on Python's stdlib wsgiref (the
# reference WSGI server): it decodes the request path into PATH_INFO and maps header names with
# `_` and `-` to the same HTTP_* variable (`x_jwtedge_sub` and `x-jwtedge-sub` are both
# HTTP_X_JWTEDGE_SUB; repeated ones are joined with ","). On top of that its router is as lenient
# as upstreams get: `\` is a separator, `;params` are dropped from segments (servlet style), a NUL
# ends the path (C style), `%` left after decoding is decoded again, slashes are merged and
# dot-segments resolved. What it serves under /api (case-sensitive) is "guarded content", which
# no request without a valid token may ever receive through the worker.
#
# GET /__log (straight to this server, not through the worker) answers every request seen so far.
# Prints "listening on http://127.0.0.1:PORT" once ready.
import json
import sys
import urllib.parse
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

GUARDED_PREFIX = "/api"
SECRET = "GUARDED-CONTENT-7f3a"
seen = []


def route(path_info):
    path = path_info.encode("latin-1").decode("utf-8", "replace")
    path = path.split("\x00", 1)[0].replace("\\", "/")
    if "%" in path:
        path = urllib.parse.unquote(path)
    out = []
    for segment in path.split("/"):
        segment = segment.split(";", 1)[0]
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    return "/" + "/".join(out)


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/__log":
        body = json.dumps(seen).encode()
    else:
        routed = route(environ.get("PATH_INFO", ""))
        guarded = routed == GUARDED_PREFIX or routed.startswith(GUARDED_PREFIX + "/")
        entry = {
            "raw_uri": environ.get("RAW_URI"),
            "path_info": environ.get("PATH_INFO"),
            "routed": routed,
            "guarded": guarded,
            "identity": {k: v for k, v in environ.items() if k.startswith("HTTP_X_JWTEDGE")},
        }
        seen.append(entry)
        body = json.dumps({**entry, "content": SECRET if guarded else "public"}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class Handler(WSGIRequestHandler):
    def get_environ(self):
        env = super().get_environ()
        env["RAW_URI"] = self.path  # the request target as received (gunicorn's name for it)
        return env

    def log_message(self, *args):
        pass


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
