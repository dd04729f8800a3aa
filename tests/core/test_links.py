from django.urls import reverse

from core.links import url_maker


def test_url_maker_builds_the_same_urls_as_reverse():
    url_of = url_maker("disputes:refund-request")

    assert url_of(42) == reverse("disputes:refund-request", kwargs={"pk": 42})
