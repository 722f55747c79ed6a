"""Just enough PDF reading to check reportlab's output: pages and the text drawn on them."""

import base64
import re
import zlib

STREAM = re.compile(rb"/Filter \[ /ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)~>", re.DOTALL)
SHOWN = re.compile(rb"\((.*?)(?<!\\)\)\s*Tj")


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def shown_text(pdf: bytes) -> str:
    """The strings of every `(...) Tj` in reportlab's (ASCII85, Flate) content streams."""
    texts = []
    for raw in STREAM.findall(pdf):
        content = zlib.decompress(base64.a85decode(b"".join(raw.split())))
        texts += [m.replace(rb"\(", b"(").replace(rb"\)", b")") for m in SHOWN.findall(content)]
    return "\n".join(t.decode("latin-1") for t in texts)
