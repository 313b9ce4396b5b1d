"""``python -m sscard.terminals.chip serve --card FILE --port 35963``: the card on a vpcd slot.

vpcd framing: 2-byte big-endian length + payload; a 1-byte payload is a control message
(0 power off, 1 power on, 2 reset, 4 get ATR); anything longer is an APDU.
"""

from __future__ import annotations

import argparse
import socket
import struct
from pathlib import Path

from sscard.terminals.chip.card import Card

ATR = bytes.fromhex("3B8880014353534341524433")  # historical bytes "CSSCARD3"


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return buf


def serve(card: Card, host: str, port: int) -> None:
    with socket.create_connection((host, port)) as sock:
        while True:
            (length,) = struct.unpack(">H", _recv_exact(sock, 2))
            msg = _recv_exact(sock, length)
            if length == 1:
                if msg[0] in (0, 1, 2):
                    card.reset()
                    continue
                if msg[0] == 4:
                    sock.sendall(struct.pack(">H", len(ATR)) + ATR)
                continue
            resp = card.process(msg)
            sock.sendall(struct.pack(">H", len(resp)) + resp)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sscard.terminals.chip")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="connect the card to a vpcd reader slot")
    s.add_argument("--card", type=Path, required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=35963)
    args = parser.parse_args(argv)
    serve(Card.load(args.card), args.host, args.port)


if __name__ == "__main__":
    main()
