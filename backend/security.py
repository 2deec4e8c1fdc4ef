"""Requests the API does not take at all, and response headers for the API that the admin cannot share."""

from django.http import HttpRequest, HttpResponse, JsonResponse

# The longest request line (method, path and query string) the API takes, in bytes: a long filter query string fits,
# as in browsers, load balancers and gunicorn's limit; a longer one is answered 414 (the schema says so).
MAX_REQUEST_LINE = 8190


class RequestLineLimitMiddleware:
    """414 with a JSON body for a request line over MAX_REQUEST_LINE bytes, before anything reads the request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        line = f"{request.method} {request.get_full_path()} {request.META.get('SERVER_PROTOCOL', 'HTTP/1.1')}"
        if len(line.encode("latin-1", "replace")) > MAX_REQUEST_LINE:
            message = f"The request line (method, path and query string) is over {MAX_REQUEST_LINE} bytes"
            return JsonResponse({"error": message}, status=414)
        return self.get_response(request)


class ApiReferrerPolicyMiddleware:
    """`Referrer-Policy: no-referrer` on /api/ responses, so neither API URLs nor the presigned URLs they
    redirect to leak in a Referer header. The admin keeps Django's `same-origin`: with `no-referrer`
    browsers send `Origin: null` on its forms and its CSRF check refuses them."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response["Referrer-Policy"] = "no-referrer"
        return response
