"""Operator accounts: creation, roles, status, passwords (the administrator's use cases).

Read ``service``.
"""
