"""Family service (亲情服务): a guardian holds and shows the e-card of a child or an elder.
``service.py`` holds binding, consent and proxy codes; ``rules.py`` the pure age and
business rules; ``errors.py`` the refusals."""
