"""Pages of long lists whose rows are wide.

A list page reads its rows joined to what they show (the other party, say) and annotated with
what sorts them. To keep one page, PostgreSQL then joins every matching row and carries it
whole through the sort: with a thousand rows that sort costs more than the rest of the page.
:class:`IdsFirstPaginator` chooses a page's rows by their ids alone, in a subquery without the
joins, and reads only those rows whole, in the same query.
"""

from django.core.paginator import Page, Paginator

from core.api import Pagination


class IdsFirstPaginator(Paginator):
    """A ``Paginator`` over a queryset whose page is ``object_list`` restricted to the ids of
    that page (``pk IN (SELECT pk … ORDER BY … LIMIT …)``), in the queryset's own order."""

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


class IdsFirstPagination(Pagination):
    """The API's page-number pagination (``core.api.Pagination``), pages by ids first."""

    django_paginator_class = IdsFirstPaginator
