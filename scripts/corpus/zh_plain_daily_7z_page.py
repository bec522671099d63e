"""Assemble one People's Daily page from a 7z archive of per-article text files.

Source: a .7z archive (as in caspiankexin/people-daily-crawler-date) whose members are
named ``.../YYYYMMDD/YYYYMMDD-PP-NN.txt`` -- one file per article of page PP, NN being the
article's place in the e-paper's list for that page.  Each member is the crawler's output:
kicker line, headline line, subtitle line (any of them may be empty), then one paragraph
per line, with CRLF line ends.

args: { date = "YYYYMMDD", page = "PP" }
Output: the page's articles in NN order, each member's lines kept as they are (CR removed),
lines that are empty or only whitespace dropped, joined with "\n", ending with "\n".

Pure Python stdlib: a minimal 7z reader (non-solid or solid folders, LZMA / LZMA2 coders,
LZMA-encoded header) on top of the lzma module.
"""
import lzma
import struct

_SIG = b"7z\xbc\xaf'\x1c"


class _R:
    def __init__(self, b, p=0):
        self.b = b
        self.p = p

    def byte(self):
        v = self.b[self.p]
        self.p += 1
        return v

    def num(self):
        first = self.byte()
        mask = 0x80
        val = 0
        for i in range(8):
            if first & mask == 0:
                return val | ((first & (mask - 1)) << (8 * i))
            val |= self.byte() << (8 * i)
            mask >>= 1
        return val

    def take(self, n):
        v = self.b[self.p:self.p + n]
        self.p += n
        return v


def _bits(r, n):
    out = []
    mask = 0
    byte = 0
    for _ in range(n):
        if mask == 0:
            byte = r.byte()
            mask = 0x80
        out.append(bool(byte & mask))
        mask >>= 1
    return out


def _allbits(r, n):
    if r.byte():
        return [True] * n
    return _bits(r, n)


def _folder(r):
    coders = []
    for _ in range(r.num()):
        flag = r.byte()
        cid = r.take(flag & 0x0F)
        ni = no = 1
        if flag & 0x10:
            ni = r.num()
            no = r.num()
        props = r.take(r.num()) if flag & 0x20 else b""
        coders.append((cid, ni, no, props))
    tot_out = sum(c[2] for c in coders)
    tot_in = sum(c[1] for c in coders)
    bind = [(r.num(), r.num()) for _ in range(tot_out - 1)]
    npacked = tot_in - len(bind)
    packed = [r.num() for _ in range(npacked)] if npacked > 1 else [0]
    return {"coders": coders, "bind": bind, "packed": packed, "tot_out": tot_out}


def _folder_size(f):
    bound = set(o for _, o in f["bind"])
    for i, u in enumerate(f["unpack"]):
        if i not in bound:
            return u
    return f["unpack"][-1]


def _streams(r):
    info = {}
    while True:
        t = r.byte()
        if t == 0:
            return info
        if t == 6:
            info["packpos"] = r.num()
            n = r.num()
            sizes = []
            while True:
                t2 = r.byte()
                if t2 == 0:
                    break
                if t2 == 9:
                    sizes = [r.num() for _ in range(n)]
                elif t2 == 10:
                    for x in _allbits(r, n):
                        if x:
                            r.take(4)
            info["packsizes"] = sizes
        elif t == 7:
            if r.byte() != 11:
                raise ValueError("7z: expected folder list")
            nf = r.num()
            if r.byte() != 0:
                raise ValueError("7z: external folders unsupported")
            folders = [_folder(r) for _ in range(nf)]
            if r.byte() != 12:
                raise ValueError("7z: expected unpack sizes")
            for f in folders:
                f["unpack"] = [r.num() for _ in range(f["tot_out"])]
            t2 = r.byte()
            if t2 == 10:
                for x in _allbits(r, nf):
                    if x:
                        r.take(4)
                t2 = r.byte()
            if t2 != 0:
                raise ValueError("7z: bad unpack info")
            info["folders"] = folders
        elif t == 8:
            folders = info["folders"]
            nums = [1] * len(folders)
            t2 = r.byte()
            if t2 == 13:
                nums = [r.num() for _ in folders]
                t2 = r.byte()
            sizes = []
            for f, n in zip(folders, nums):
                if n == 0:
                    sizes.append([])
                    continue
                fs = []
                if t2 == 9:
                    for _ in range(n - 1):
                        fs.append(r.num())
                fs.append(_folder_size(f) - sum(fs))
                sizes.append(fs)
            if t2 == 9:
                t2 = r.byte()
            while t2 != 0:
                if t2 == 10:
                    cnt = sum(n for f, n in zip(folders, nums)
                              if not (n == 1 and False))
                    for x in _allbits(r, cnt):
                        if x:
                            r.take(4)
                t2 = r.byte()
            info["sub"] = (nums, sizes)
        else:
            raise ValueError("7z: unexpected property %d" % t)


def _decode(data, start, size, f):
    if len(f["coders"]) != 1:
        raise ValueError("7z: coder chains unsupported")
    cid, _, _, props = f["coders"][0]
    if cid == b"\x03\x01\x01":
        d = props[0]
        pb, d = divmod(d, 45)
        lp, lc = divmod(d, 9)
        filt = [{"id": lzma.FILTER_LZMA1, "dict_size": struct.unpack("<I", props[1:5])[0],
                 "lc": lc, "lp": lp, "pb": pb}]
    elif cid == b"\x21":
        p = props[0]
        filt = [{"id": lzma.FILTER_LZMA2, "dict_size": (2 | (p & 1)) << (p // 2 + 11)}]
    elif cid == b"\x00":
        return data[start:start + size]
    else:
        raise ValueError("7z: unsupported coder %r" % cid)
    want = _folder_size(f)
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=filt)
    out = dec.decompress(data[start:start + size], want)
    if len(out) != want:
        raise ValueError("7z: short folder")
    return out


def _index(data):
    if data[:6] != _SIG:
        raise ValueError("not a 7z archive")
    noff, nsize = struct.unpack("<QQ", data[12:28])
    r = _R(data[32 + noff:32 + noff + nsize])
    t = r.byte()
    while t == 0x17:
        info = _streams(r)
        r = _R(_decode(data, 32 + info["packpos"], info["packsizes"][0], info["folders"][0]))
        t = r.byte()
    if t != 1:
        raise ValueError("7z: bad header")
    t = r.byte()
    if t == 2:
        while r.byte() != 0:
            pass
        t = r.byte()
    main = {}
    if t == 4:
        main = _streams(r)
        t = r.byte()
    if t != 5:
        raise ValueError("7z: no file list")
    nfiles = r.num()
    names = []
    empty = [False] * nfiles
    while True:
        pt = r.byte()
        if pt == 0:
            break
        body = _R(r.take(r.num()))
        if pt == 14:
            empty = _bits(body, nfiles)
        elif pt == 17:
            if body.byte() != 0:
                raise ValueError("7z: external names")
            names = bytes(body.b[body.p:]).decode("utf-16-le").split("\x00")[:nfiles]
    # map each non-empty file to (folder index, offset, size)
    folders = main["folders"]
    nums, sizes = main.get("sub", ([1] * len(folders), [[_folder_size(f)] for f in folders]))
    streams = []
    for fi, fs in enumerate(sizes):
        off = 0
        for s in fs:
            streams.append((fi, off, s))
            off += s
    nonempty = [n for n, e in zip(names, empty) if not e]
    packstart = []
    pos = 32 + main["packpos"]
    pi = 0
    for f in folders:
        packstart.append((pos, main["packsizes"][pi]))
        n = len(f["packed"])
        pos += sum(main["packsizes"][pi:pi + n])
        pi += n
    return {name: st for name, st in zip(nonempty, streams)}, folders, packstart


def extract(data: bytes, args: dict) -> str:
    date = str(args["date"])
    page = "%02d" % int(args["page"])
    index, folders, packstart = _index(data)
    prefix = "%s-%s-" % (date, page)
    members = []
    for name, st in index.items():
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base.startswith(prefix) and base.endswith(".txt"):
            members.append((int(base[len(prefix):-4]), name, st))
    if not members:
        raise ValueError("no article files for %s page %s" % (date, page))
    members.sort()
    cache = {}
    lines = []
    for _, _, (fi, off, size) in members:
        if fi not in cache:
            start, psize = packstart[fi]
            cache[fi] = _decode(data, start, psize, folders[fi])
        text = cache[fi][off:off + size].decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            if line.strip():
                lines.append(line)
    return "\n".join(lines) + "\n"
