from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.money import allocate, format_amount, parse_amount


class TestParseAmount:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("250", "250.00"),
            ("250.5", "250.50"),
            (" 0.01 ", "0.01"),
            (Decimal("3.10"), "3.10"),
            (7, "7.00"),
        ],
    )
    def test_accepts_exact_amounts(self, value, expected):
        assert parse_amount(value, currency="USD") == Decimal(expected)

    @pytest.mark.parametrize("value", [0.1, True, None, [], "1,000.00", "Infinity", "--1"])
    def test_refuses_what_is_not_a_decimal_string(self, value):
        with pytest.raises(InvalidInput):
            parse_amount(value, currency="USD")

    def test_zero_is_allowed_only_when_asked_for(self):
        assert parse_amount("0", currency="USD", allow_zero=True) == Decimal("0.00")
        with pytest.raises(InvalidInput):
            parse_amount("0", currency="USD")

    @pytest.mark.parametrize(
        "value", ["1000000000000000000000000000000", "1" + "0" * 40, 10**40, "1e40".upper()]
    )
    def test_refuses_huge_amounts_as_bad_input(self, value):
        with pytest.raises(InvalidInput) as error:
            parse_amount(value, currency="USD")

        assert error.value.code == "invalid_amount"

    def test_names_the_field_it_checks(self):
        with pytest.raises(InvalidInput) as error:
            parse_amount("-1", currency="USD", field="to_client")

        assert error.value.fields == {"to_client": ["The amount cannot be negative."]}


class TestFormatAmount:
    def test_shows_the_currency_places(self):
        assert format_amount(Decimal("5"), "USD") == "5.00"
        assert format_amount(Decimal("5"), "JPY") == "5"


class TestAllocate:
    def test_splits_to_the_cent_and_hands_out_the_remainder_first_come(self):
        shares = allocate(Decimal("100.00"), [1, 1, 1], currency="USD")

        assert shares == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
        assert sum(shares) == Decimal("100.00")

    def test_splits_by_weight(self):
        assert allocate(Decimal("300.01"), [60, 40], currency="USD") == [
            Decimal("180.01"),
            Decimal("120.00"),
        ]

    def test_refuses_weights_that_are_all_zero(self):
        with pytest.raises(ValueError):
            allocate(Decimal("1.00"), [0, 0], currency="USD")
