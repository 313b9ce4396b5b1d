"""Audit log (审计日志): append-only, SM3 hash-chained record of every access and change."""
