"""CORS in a real headless Chromium: a page on an allowed origin logs in and lists houses; the same page on
another origin is refused by the browser itself."""

import pytest

from property.tests.factories import HouseForSaleFactory
from testing import CHROMIUM_MISSING, chromium_page, static_site

pytestmark = [pytest.mark.django_db(transaction=True), CHROMIUM_MISSING]

# What a front end does first: a token, then a list with it.
LOG_IN_AND_LIST = """async ({api, username, password}) => {
    try {
        const login = await fetch(`${api}/api/token/`, {
            method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({username, password}),
        });
        const {access} = await login.json();
        const houses = await fetch(`${api}/api/houses-for-sale/`, {headers: {Authorization: `Bearer ${access}`}});
        return {houses: (await houses.json()).count, requestId: houses.headers.get("X-Request-ID") !== null};
    } catch (error) {
        return {refused: error.name};
    }
}"""


def test_a_page_on_an_allowed_origin_uses_the_api_and_one_on_another_origin_is_refused(
    live_server, settings, django_user_model, tmp_path
):
    agent = django_user_model.objects.create_user("agent", password="agent-password-123")
    HouseForSaleFactory(owner=agent)
    (tmp_path / "index.html").write_text("<!doctype html><title>Front end</title>")
    credentials = {"api": live_server.url, "username": "agent", "password": "agent-password-123"}
    with static_site(tmp_path) as front_end, static_site(tmp_path) as elsewhere:
        settings.CORS_ALLOWED_ORIGINS = [front_end]
        with chromium_page() as page:
            page.goto(f"{front_end}/index.html")
            assert page.evaluate(LOG_IN_AND_LIST, credentials) == {"houses": 1, "requestId": True}
            page.goto(f"{elsewhere}/index.html")
            assert page.evaluate(LOG_IN_AND_LIST, credentials) == {"refused": "TypeError"}
