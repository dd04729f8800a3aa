"""The staff statistics page: disputes by stage and outcome, time to resolution, and the agents'
service level, as tables and as server-rendered SVG bar charts (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin import site as admin_site
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.actions import roles_of

from . import selectors
from .admin import duration_text

# Bar chart geometry, in SVG user units (the chart scales to its container's width).
LABEL_WIDTH = 300
BAR_SPACE = 240
ROW_HEIGHT = 24
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: float
    width: float

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT - 4

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def width(self) -> int:
        return LABEL_WIDTH + BAR_SPACE + 50

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW_HEIGHT + 4


def bar_chart(title: str, rows: list[tuple[str, float, str]], maximum: float | None = None):
    """Lay out horizontal bars for ``rows`` of (label, value, value as text)."""
    top = maximum if maximum is not None else max((value for _, value, _ in rows), default=0)
    return BarChart(
        title=title,
        bars=[
            Bar(
                label=label,
                value_text=text,
                y=index * ROW_HEIGHT + 4,
                width=round(BAR_SPACE * value / top, 1) if top else 0,
            )
            for index, (label, value, text) in enumerate(rows)
        ],
    )


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


@staff_member_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Show staff how disputes fare and how quickly agents propose resolutions.

    The admin site's page (``is_staff`` opens it) for the staff roles: a role is a group.
    """
    if not roles_of(request.user):
        raise PermissionDenied("Statistics are for mediation agents, arbitrators and support.")
    stats = selectors.dispute_statistics(service_level=settings.MEDIATION_SERVICE_LEVEL)
    agents = [
        {
            "row": row,
            "share": _percent(row.share_within),
            "median": duration_text(row.median_to_proposal),
        }
        for row in stats.agents
    ]
    context = {
        **admin_site.each_context(request),
        "title": "Dispute statistics",
        "stats": stats,
        "total": sum(count for _, count in stats.by_stage),
        "median_to_resolution": duration_text(stats.median_to_resolution),
        "service_level_text": duration_text(stats.service_level),
        "overall_share": _percent(stats.overall.share_within),
        "overall_median": duration_text(stats.overall.median_to_proposal),
        "agents": agents,
        "stage_chart": bar_chart(
            "Disputes by stage", [(label, n, str(n)) for label, n in stats.by_stage]
        ),
        "outcome_chart": bar_chart(
            "Closed disputes by outcome", [(label, n, str(n)) for label, n in stats.by_outcome]
        ),
        "agent_chart": bar_chart(
            "First proposals within the service level",
            [
                (row.agent, row.share_within or 0, _percent(row.share_within))
                for row in stats.agents
            ],
            maximum=1,
        ),
    }
    return render(request, "mediation/statistics.html", context)
