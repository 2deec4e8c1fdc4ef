"""Response headers for the API that the admin cannot share."""

from django.http import HttpRequest, HttpResponse


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
