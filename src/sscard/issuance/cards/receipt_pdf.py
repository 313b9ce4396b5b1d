"""The counter receipt drawn as a one-page PDF (A5), in Chinese with reportlab's built-in
CJK font STSong-Light (a CID font every PDF reader has: no font file travels with it)."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from sscard.issuance.cards.schemas import ReceiptOut

FONT = "STSong-Light"
TITLE = "社会保障卡柜面业务回执"
FOOTER = "本回执可在卡片页面重新打印，校验码应一致。持卡人签字："


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def rows(receipt: ReceiptOut) -> list[tuple[str, str]]:
    """The printed lines of the receipt, label and value, in order."""
    found = [
        ("回执编号", receipt.receipt_no),
        ("业务类型", receipt.operation),
        ("持卡人", receipt.holder_name),
        ("证件号码", receipt.holder_id_number),
        ("社会保障卡号", receipt.card_number),
        ("办理时间", receipt.beijing_time),
        ("办理网点", receipt.hall),
        ("经办人", receipt.clerk),
    ]
    return found + ([("说明", receipt.note)] if receipt.note else [])


def render(receipt: ReceiptOut) -> bytes:
    """The receipt as PDF bytes."""
    font, out = _font(), BytesIO()
    width, height = A5
    # invariant: no creation time or random id, so a reprint is byte for byte the same.
    pdf = Canvas(out, pagesize=A5, pageCompression=0, invariant=True)
    pdf.setTitle(f"{TITLE} {receipt.receipt_no}")
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, height - 22 * mm, TITLE)
    y = height - 38 * mm
    for label, value in rows(receipt):
        pdf.setFont(font, 10.5)
        pdf.drawString(16 * mm, y, f"{label}：")
        pdf.drawString(44 * mm, y, value[:40])
        y -= 8 * mm
    pdf.line(16 * mm, y + 3 * mm, width - 16 * mm, y + 3 * mm)
    pdf.setFont(font, 8)
    pdf.drawString(16 * mm, y - 3 * mm, "校验码（SM3，覆盖以上各项）：")
    pdf.drawString(16 * mm, y - 8 * mm, receipt.digest[:32])
    pdf.drawString(16 * mm, y - 13 * mm, receipt.digest[32:])
    pdf.drawString(16 * mm, y - 21 * mm, FOOTER)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
