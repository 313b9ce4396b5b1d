import logging

import pytest

from sscard.kit.logs import MaskingFilter


def test_log_lines_never_carry_an_unmasked_id_or_phone(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("sscard.test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="sscard.test.masking"):
        logger.info("GET /api/v1/persons/%s phone=%s", "37080219900101123X", "13812341234")
        try:
            raise ValueError("duplicate key 370802199001011234")
        except ValueError:
            logger.exception("failed")
    text = caplog.text
    assert "37080219900101123X" not in text and "13812341234" not in text
    assert "370802********123X" in text and "138****1234" in text
    assert "370802199001011234" not in text
