"""Fixtures of the payment tests that reach the bank peer (see ``orders_support``)."""

from tests.integration.payments.orders_support import bank, bank_url, pay_numbers

__all__ = ["bank", "bank_url", "pay_numbers"]
