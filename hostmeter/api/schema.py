"""OpenAPI pieces drf-spectacular cannot guess: the token scheme and the error answers
every endpoint may give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION = {
    "type": "object",
    "description": "Field name → list of reasons (non_field_errors for the whole input; "
    "detail when the body as a whole cannot be read).",
    "additionalProperties": True,
}
COMMON = {
    "400": ("Invalid input: the reasons name the field.", "ValidationError"),
    "401": ("No credentials, or a wrong or revoked token.", "Error"),
    "403": ("The login level (or the token's scope) may not do this.", "Error"),
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hostmeter.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer hmt_…` "
            "(`Token hmt_…` is accepted too).",
        }


def add_error_responses(result, generator, request, public):
    """Documents 400/401/403 (and 404 on paths with a key) on every operation that can
    give them, so clients and schema checkers know the refusals are expected."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if not operation.get("security") or {} in operation["security"]:
                continue  # the schema and docs pages are public
            responses = operation.setdefault("responses", {})
            wanted = dict(COMMON)
            if "{" in path:
                wanted["404"] = ("Not found.", "Error")
            for code, (text, schema) in wanted.items():
                responses.setdefault(
                    code,
                    {
                        "description": text,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{schema}"}
                            }
                        },
                    },
                )
    return result
