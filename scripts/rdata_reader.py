"""Minimal reader for R's lazy-load databases (`Rdata.rdx` + `Rdata.rdb`).

An R package's `data/Rdata.rdx` is a gzip stream holding an R-serialised list whose `variables` element maps each
dataset name to an (offset, length) pair in `Rdata.rdb`.  Each rdb block is a 4-byte big-endian uncompressed length
followed by a zlib stream of R's XDR serialisation format (version 2 or 3).  This reader understands the subset of that
format that character-vector datasets use: pairlists, symbols, CHARSXP strings, logical/integer/real/string/generic
vectors and references.  Standard library only.
"""
import gzip
import struct
import zlib

NILVALUE, REFSXP, GLOBALENV, EMPTYENV, BASEENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE = 254, 255, 253, 242, 241, 252, 251, 247


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.refs = []

    def int(self):
        (v,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return v

    def header(self):
        magic = self.data[:2]
        if magic != b"X\n":
            raise ValueError(f"not an XDR R serialisation (magic {magic!r})")
        self.pos = 2
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            n = self.int()
            self.pos += n  # native encoding name
        elif version != 2:
            raise ValueError(f"unsupported R serialisation version {version}")

    def item(self):
        flags = self.int()
        kind = flags & 0xFF
        has_attr = flags & (1 << 9)
        has_tag = flags & (1 << 10)
        if kind in (NILVALUE, GLOBALENV, EMPTYENV, BASEENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE):
            return None
        if kind == REFSXP:
            index = flags >> 8
            if index == 0:
                index = self.int()
            return self.refs[index - 1]
        if kind == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if kind in (2, 6):  # LISTSXP / LANGSXP: pairlist -> list of (tag, value)
            out = []
            while True:
                attrs = self.item() if has_attr else None
                tag = self.item() if has_tag else None
                out.append((tag, self.item()))
                flags = self.int()
                kind = flags & 0xFF
                has_attr = flags & (1 << 9)
                has_tag = flags & (1 << 10)
                if kind == NILVALUE:
                    return out
                if kind not in (2, 6):
                    raise ValueError(f"unsupported pairlist tail type {kind}")
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.data[self.pos : self.pos + n].decode("utf-8")
            self.pos += n
            return s
        if kind in (10, 13):  # LGLSXP, INTSXP
            n = self.int()
            v = list(struct.unpack_from(f">{n}i", self.data, self.pos))
            self.pos += 4 * n
        elif kind == 14:  # REALSXP
            n = self.int()
            v = list(struct.unpack_from(f">{n}d", self.data, self.pos))
            self.pos += 8 * n
        elif kind in (16, 19):  # STRSXP, VECSXP
            n = self.int()
            v = [self.item() for _ in range(n)]
        else:
            raise ValueError(f"unsupported R object type {kind} at byte {self.pos - 4}")
        attrs = dict(self.item()) if has_attr else {}
        if "names" in attrs and kind == 19:
            return dict(zip(attrs["names"], v))
        return v


def _unserialize(data):
    r = _Reader(data)
    r.header()
    return r.item()


def read_lazyload_db(rdx_path, rdb_path):
    """Returns {dataset name: value} for every variable of an R lazy-load database."""
    with gzip.open(rdx_path, "rb") as f:
        index = _unserialize(f.read())
    with open(rdb_path, "rb") as f:
        rdb = f.read()
    out = {}
    for name, (offset, length) in index["variables"].items():
        block = rdb[offset : offset + length]
        (size,) = struct.unpack_from(">I", block, 0)
        raw = zlib.decompress(block[4:])
        if len(raw) != size:
            raise ValueError(f"{rdb_path}: block of {name} decompressed to {len(raw)} bytes, header says {size}")
        out[name] = _unserialize(raw)
    return out
