"""A renderer that lets a report file through whatever the client's Accept header says."""

import json

from rest_framework.renderers import BaseRenderer


class FileRenderer(BaseRenderer):
    """Accepts any media type: the view answers with a FileResponse, which is not rendered;
    an error answer (a dict) is written as JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()
