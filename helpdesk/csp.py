"""Content-Security-Policy on every response: scripts and styles only from this site's own
files, so markup that slipped into a page (customer text is escaped; this is the second line)
can neither run a script, an `on*=` attribute nor a `javascript:` URL."""

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Customers' images are shown from the platforms' CDNs; only http(s) URLs are rendered.
        "img-src 'self' https: http:",
        # htmx requests and the console's websocket; 'self' covers ws(s):// to this host (CSP 3).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI is loaded from a CDN and started by an inline script: the API docs page is left
# without the policy rather than weakening it everywhere.
EXEMPT_PATH_PREFIXES = ("/api/docs/",)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(EXEMPT_PATH_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
