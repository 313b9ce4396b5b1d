"""Third-generation social security card chip (第三代社会保障卡芯片), emulated.

``card`` answers APDUs as a pure class (bytes in, bytes out); ``keys`` diversifies the
card keys (密钥分散); ``__main__`` serves a card file on a vpcd slot. See docs/card.md.
"""
