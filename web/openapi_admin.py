"""The OpenAPI description of the desk's JSON routes (/api/admin/...) and how they are signed in to.

Merged into /openapi.json by web/openapi.py. Every route here takes either
scheme: ``bearerAuth`` (``Authorization: Bearer TOKEN``, from ``article-search
editors token NAME``) or ``cookieAuth`` (the session cookie of a signed-in
editor, with its CSRF token in ``X-CSRF-Token`` for any method but GET).
"""

from __future__ import annotations

SESSION_COOKIE = "article_search_desk"
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An editor's API token (`article-search editors token NAME`).",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "A signed-in editor's session (sign in at /admin). Changes also need "
        "the session's CSRF token in the X-CSRF-Token header.",
    },
}
SECURITY = [{"bearerAuth": []}, {"cookieAuth": []}]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


UNAUTHORIZED = _error("No valid token or session (missing, revoked, expired).")
FORBIDDEN = _error("A change with the session cookie but without its X-CSRF-Token.")
NO_DESK = _error("This server is a replica: it has no desk.")


def _operation(operation_id: str, summary: str, responses: dict, **extra) -> dict:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": SECURITY,
        "responses": {**responses, "401": UNAUTHORIZED, "404": NO_DESK},
        **extra,
    }


ADMIN_SCHEMAS = {
    "Editor": {
        "type": "object",
        "required": ["editor"],
        "properties": {"editor": {"type": "string", "description": "The editor's name."}},
    },
}


def admin_paths() -> dict:
    return {
        "/api/admin/me": {
            "get": _operation(
                "adminMe",
                "Whose token or session this is: a check for automation.",
                {
                    "200": {
                        "description": "The editor signed in.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Editor"}}
                        },
                    }
                },
            )
        },
    }
