"""Units: employers (单位, by unified social credit code) and communities (社区/村).

Read ``service.py`` first; ``repository.py`` holds every query of both tables (and counts
the persons registered with a unit).
"""
