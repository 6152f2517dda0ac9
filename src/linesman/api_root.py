"""GET /api/v1/: where the API's documentation, schema and resources are.

`linesman serve` prints this URL as "API"; a client (or a person) opening it learns where
to go next instead of meeting a 404. Public, like the docs and the schema it points to:
it names resources, never data."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiRootView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    #: Router prefixes (the resource collections), set by `api_urls` from its router.
    resources: tuple[str, ...] = ()

    @extend_schema(exclude=True)  # an index of the schema, not a resource in it
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri()
        return Response(
            {
                "docs": base + "docs/",
                "schema": base + "schema/",
                "authentication": "Authorization: Bearer <token> (linesman token create)",
                "resources": {name: f"{base}{name}/" for name in self.resources},
            }
        )
