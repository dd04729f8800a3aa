"""``core.pagination``: a page's rows chosen by their ids first, in the queryset's own order."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract
from core.pagination import IdsFirstPaginator
from tests.kit import ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts():
    client = UserFactory()
    # Titles out of id order, and ties, so the order is the queryset's and not the ids'.
    for title in ["b", "a", "c", "a", "e", "d", "b"]:
        ContractFactory(client=client, title=title)
    return (
        Contract.objects.filter(client=client).select_related("freelancer").order_by("title", "-pk")
    )


def _pages(paginator):
    return [[c.pk for c in paginator.page(n).object_list] for n in paginator.page_range]


class TestIdsFirstPaginator:
    @pytest.mark.parametrize("per_page,orphans", [(3, 0), (2, 1), (7, 0), (10, 0)])
    def test_gives_the_pages_a_plain_paginator_gives(self, contracts, per_page, orphans):
        plain = Paginator(contracts, per_page, orphans=orphans)
        first = IdsFirstPaginator(contracts, per_page, orphans=orphans)

        assert _pages(first) == _pages(plain)
        assert first.num_pages == plain.num_pages

    def test_reads_a_page_in_one_query_with_its_joins(self, contracts):
        page = IdsFirstPaginator(contracts, 3).page(2)

        with CaptureQueriesContext(connection) as queries:
            rows = list(page.object_list)
            names = [row.freelancer.username for row in rows]

        assert len(queries.captured_queries) == 1
        assert len(names) == 3

    def test_refuses_a_page_past_the_end_like_a_paginator(self, contracts):
        from django.core.paginator import EmptyPage

        with pytest.raises(EmptyPage):
            IdsFirstPaginator(contracts, 3).page(4)

    def test_an_empty_list_has_one_empty_page(self):
        paginator = IdsFirstPaginator(Contract.objects.none().order_by("pk"), 3)

        assert list(paginator.page(1).object_list) == []
