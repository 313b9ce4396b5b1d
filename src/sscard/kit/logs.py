"""Logging that never writes personal data unmasked.

Every handler gets :class:`MaskingFilter`, which masks ID numbers, bank card numbers and
mobile numbers in the final message, its arguments and any exception text, including the
request paths in uvicorn's access log.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from sscard.kit.masking import mask_text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the platform and uvicorn."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask": {"()": "sscard.kit.logs.MaskingFilter"}},
        "formatters": {
            "default": {"format": fmt},
            "access": {"format": "%(asctime)s %(levelname)s access: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["mask"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["mask"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "": {"handlers": ["default"], "level": level.upper()},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(), "propagate": False},
            "sqlalchemy.engine": {"level": "WARNING"},
        },
    }


def setup(level: str = "INFO") -> None:
    logging.config.dictConfig(config(level))
