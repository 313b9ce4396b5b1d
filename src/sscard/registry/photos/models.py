"""The card photo table: one encrypted JPEG per person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


class Photo(Base):
    """A person's card photo, stored encrypted, EXIF stripped."""

    __tablename__ = "registry_photo"

    person_id: Mapped[str] = mapped_column(
        ForeignKey("registry_person.id", ondelete="CASCADE"), primary_key=True
    )
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))
