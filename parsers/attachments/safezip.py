"""ZIP members read with caps: a DOCX/XLSX/OFD is a ZIP, and a ZIP can be a bomb.

The declared sizes in the central directory are checked first (cheap, catches the
honest bombs); the member is then read in chunks and cut at the cap anyway, because a
crafted archive can lie about its sizes.
"""
from __future__ import annotations

import io
import zipfile
import zlib

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind

_CHUNK = 1 << 20


class SafeZip:
    def __init__(self, body: bytes, limits: Limits, what: str) -> None:
        self.limits = limits
        self.what = what
        self.read_total = 0
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(body))
            self.infos = {i.filename: i for i in self.zf.infolist()}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ParseError(f"corrupt {what}: {exc}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
        declared = sum(i.file_size for i in self.infos.values())
        if declared > limits.max_unzipped_bytes * 4:
            raise ParseError(f"{what} declares {declared} bytes inflated (a ZIP bomb?); over the "
                             f"{limits.max_unzipped_bytes}-byte cap, not read", kind=ErrorKind.ATTACHMENT_TOO_LARGE)

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise ParseError(f"corrupt {self.what}: no {name} inside", kind=ErrorKind.ATTACHMENT_CORRUPT)
        cap = min(self.limits.max_member_bytes, self.limits.max_unzipped_bytes - self.read_total)
        if info.file_size > cap:
            raise ParseError(f"{self.what}: {name} inflates to {info.file_size} bytes, over the {cap}-byte cap "
                             "(a ZIP bomb or a huge file); not read", kind=ErrorKind.ATTACHMENT_TOO_LARGE)
        out = bytearray()
        try:
            with self.zf.open(info) as f:
                while chunk := f.read(_CHUNK):
                    out += chunk
                    if len(out) > cap:
                        raise ParseError(f"{self.what}: {name} inflates past the {cap}-byte cap though it "
                                         "declares less (a crafted ZIP); not read", kind=ErrorKind.ATTACHMENT_TOO_LARGE)
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise ParseError(f"corrupt {self.what}: {name}: {exc}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
        self.read_total += len(out)
        return bytes(out)
