"""Instant card making at bank branches (即时制卡) and the cards' records at the province
(off-site cards, transfer, provincial record cancel)."""
