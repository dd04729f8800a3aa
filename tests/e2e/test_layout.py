"""The page's frame on a phone: the header keeps to one line."""

from tests.kit import PASSWORD

from .conftest import log_in, make_contract


class TestTheMobileHeader:
    def test_takes_one_line_and_keeps_every_link(self, page):
        make_contract()
        page.set_viewport_size({"width": 360, "height": 740})
        log_in(page, "carol", PASSWORD)

        header = page.locator(".header-inner").bounding_box()
        boxes = [
            page.locator(selector).first.bounding_box()
            for selector in (".brand", ".main-nav a", ".user-menu button")
        ]

        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
        assert header["height"] <= 2 * line + 4  # one row of controls, with its padding
        tops = [box["y"] for box in boxes]
        assert max(tops) - min(tops) < 12  # side by side, not stacked
        assert page.get_by_role("link", name="Contract history").is_visible()
        assert page.get_by_role("link", name="Milestone disputes").count() == 1  # named still
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows
