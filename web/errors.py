"""Error pages and JSON errors, and the security headers every response carries.

No route can answer with a traceback: a bad parameter is a 400, an unknown
article a 404, a missing index a 503, anything unexpected a plain 500 — as
JSON under /api (and /healthz, /openapi.json), as a friendly page elsewhere.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from search.facets import FacetNotIndexedError
from search.storage.index_folder import IndexNotFoundError
from web.params import BadRequestParameter

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
NO_INDEX_MESSAGE = "The search index is not available yet. Please try again in a moment."


def wants_json() -> bool:
    return request.path.startswith(JSON_PATHS)


def is_partial() -> bool:
    """A request from htmx (or ``partial=1``) for the results region only, not the whole page."""
    from_htmx = request.headers.get("HX-Request") == "true"
    restoring = request.headers.get("HX-History-Restore-Request") == "true"  # wants the page
    return (from_htmx and not restoring) or request.args.get("partial") == "1"


def json_error(status: int, message: str, parameter: str | None = None) -> Response:
    error = {"message": message}
    if parameter is not None:
        error["parameter"] = parameter
    response = jsonify({"error": error})
    response.status_code = status
    return response


def html_error(status: int, heading: str, message: str, **context) -> Response:
    template = "_error_region.html" if is_partial() else "error.html"
    body = render_template(
        template, status=status, heading=heading, message=message, title=heading, **context
    )
    return Response(body, status=status, mimetype="text/html")


def bad_parameter(error: BadRequestParameter) -> Response:
    if wants_json():
        return json_error(400, error.message, error.name)
    return html_error(
        400,
        "That search could not be run",
        f"{error.message}.",
        q=request.args.get("q", "")[:1000],
    )


def index_missing(error: IndexNotFoundError) -> Response:
    if isinstance(error, FacetNotIndexedError):
        # The operator's to fix (a rebuild); readers are not shown the index's path.
        request_logger().error("%s", error)
    return unavailable("Search is resting", NO_INDEX_MESSAGE)


def unavailable(heading: str, message: str) -> Response:
    """A 503 that asks to come back in 30 s: JSON under /api, else a page."""
    response = json_error(503, message) if wants_json() else html_error(503, heading, message)
    response.headers["Retry-After"] = "30"
    return response


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status < 400:  # redirects raised as exceptions (e.g. a missing trailing slash)
        return error.get_response()
    if status == 404:
        heading, message = "Not found", "There is no page at this address."
    elif status == 405:
        heading, message = "Method not allowed", f"{request.method} is not allowed here."
    else:
        heading, message = error.name, error.description or error.name
    response = json_error(status, message) if wants_json() else html_error(status, heading, message)
    if status == 405 and isinstance(error.valid_methods, list | tuple | set):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return http_error(error)
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, IndexNotFoundError):
        return index_missing(original)
    if isinstance(original, BadRequestParameter):
        return bad_parameter(original)
    request_logger().exception("unexpected error on %s", request.full_path)
    message = "Something went wrong on our side. Please try again."
    if wants_json():
        return json_error(500, message)
    try:
        return html_error(500, "Something went wrong", message)
    except Exception:  # the error page itself failed: say so in plain text
        return Response(message, status=500, mimetype="text/plain")


def request_logger():
    from flask import current_app

    return current_app.logger


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(("/search", "/api/search")) or request.path == "/":
        response.vary.add("HX-Request")  # the page, or its results region for htmx
        response.vary.add("X-Typing")  # a keystroke's region: no counts (web/search_form.py)
    return response


def register(app: Flask) -> None:
    app.register_error_handler(BadRequestParameter, bad_parameter)
    app.register_error_handler(IndexNotFoundError, index_missing)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, unexpected_error)
    app.register_error_handler(Exception, unexpected_error)
    app.after_request(add_security_headers)
