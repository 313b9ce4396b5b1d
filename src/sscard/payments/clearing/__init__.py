"""Clearing and settlement (清分结算): the daily cut-off, per-bank clearing positions,
per-merchant settlement net of fees, and the settlement file for the reserve bank."""
