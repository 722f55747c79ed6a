"""/metrics on the dashboard's port, for a Prometheus that sends the metrics token; without a
token configured there is no such page (404), as for any unknown path."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from hub.metrics.access import CHALLENGE, bearer_matches
from hub.metrics.registry import exposition
from hub.web.auth import web_context

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = web_context(request).settings.metrics.token
    if token is None:
        raise HTTPException(404)
    if not bearer_matches(request.headers.get("authorization"), token):
        return Response(
            "send the metrics token: Authorization: Bearer <token>\n",
            status_code=401,
            headers={"WWW-Authenticate": CHALLENGE},
            media_type="text/plain",
        )
    body, content_type = exposition(request.app.state.metrics, request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})
