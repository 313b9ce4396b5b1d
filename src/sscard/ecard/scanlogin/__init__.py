"""Scan login (扫码登录) for government portals: a portal shows a ticket as a QR, the
resident confirms it in the wallet, the portal learns who logged in exactly once.
``service.py`` holds the states and use cases."""
