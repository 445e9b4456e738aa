"""Minimal GGUF v3 reader and writer (no gguf-py), for the demo model.

Only what the demo needs: scalar / string / array metadata of every GGUF
value type, and F32 / F16 tensors (other tensor types are read as raw bytes
with their size computed from the block tables below).

Conventions (same as llama.cpp / ggml):
  * little-endian; header "GGUF", u32 version, u64 n_tensors, u64 n_kv;
  * tensor dims are ggml `ne`, ne[0] = row length: a PyTorch tensor of shape
    [a, b, c] written row-major as is has ne [c, b, a];
  * tensor data starts at the first multiple of general.alignment (default
    32) after the tensor-info table, and each tensor's offset is aligned too.
"""
import struct

# GGUF metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
               F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
TYPE_NAMES = {U8: "u8", I8: "i8", U16: "u16", I16: "i16", U32: "u32", I32: "i32",
              F32: "f32", BOOL: "bool", STR: "str", ARR: "arr", U64: "u64",
              I64: "i64", F64: "f64"}

# ggml tensor types: id -> (name, block elements, block bytes)
GGML_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18),
              3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24),
              8: ("Q8_0", 32, 34), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
              14: ("Q6_K", 256, 210), 30: ("BF16", 1, 2)}
GGML_F32, GGML_F16 = 0, 1


class GGUFReader:
    """Parses a whole GGUF file held in memory.

    kv:      dict key -> (type, value); arrays are (ARR, (elem_type, [values])).
    tensors: dict name -> dict(type, ne, offset, nbytes, data)  (data = bytes)
    """

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        magic = self.buf[:4]
        if magic != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        self.pos = 4
        self.version = self._u32()
        n_tensors = self._u64()
        n_kv = self._u64()
        self.kv = {}
        for _ in range(n_kv):
            key = self._str()
            t = self._u32()
            self.kv[key] = (t, self._value(t))
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            n_dims = self._u32()
            ne = [self._u64() for _ in range(n_dims)]
            ttype = self._u32()
            off = self._u64()
            infos.append((name, ne, ttype, off))
        align = self.kv.get("general.alignment", (U32, 32))[1]
        data_start = (self.pos + align - 1) // align * align
        self.alignment = align
        self.data_start = data_start
        self.tensors = {}
        for name, ne, ttype, off in infos:
            tname, be, bb = GGML_TYPES[ttype]
            n = 1
            for d in ne:
                n *= d
            assert n % be == 0, name
            nbytes = n // be * bb
            a = data_start + off
            if a + nbytes > len(self.buf):
                raise ValueError(f"{path}: tensor {name} runs past end of file")
            self.tensors[name] = dict(type=ttype, type_name=tname, ne=ne,
                                      offset=off, nbytes=nbytes,
                                      data=self.buf[a:a + nbytes])

    def _unpack(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def _u32(self):
        return self._unpack("<I")

    def _u64(self):
        return self._unpack("<Q")

    def _str(self):
        n = self._u64()
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _value(self, t):
        if t == STR:
            return self._str()
        if t == ARR:
            et = self._u32()
            n = self._u64()
            return (et, [self._value(et) for _ in range(n)])
        return self._unpack(_SCALAR_FMT[t])

    def get(self, key, default=None):
        return self.kv[key][1] if key in self.kv else default


class GGUFWriter:
    """Collects metadata and tensors, then writes a GGUF v3 file in one go.

    Keys and tensors are written in insertion order.
    """

    def __init__(self, alignment=32):
        self.kv = []          # (key, type, value)
        self.tensors = []     # (name, ne, ggml_type, bytes)
        self.alignment = alignment

    def add(self, key, vtype, value):
        """vtype: one of the GGUF value types; for arrays pass (ARR, elem_type)
        as vtype=ARR and value=(elem_type, list)."""
        self.kv.append((key, vtype, value))

    def add_tensor(self, name, ne, ggml_type, data):
        ttype = GGML_TYPES[ggml_type]
        n = 1
        for d in ne:
            n *= d
        assert len(data) == n // ttype[1] * ttype[2], (name, ne, len(data))
        self.tensors.append((name, list(ne), ggml_type, bytes(data)))

    @staticmethod
    def _pstr(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _pvalue(self, t, v):
        if t == STR:
            return self._pstr(v)
        if t == ARR:
            et, items = v
            out = [struct.pack("<IQ", et, len(items))]
            out += [self._pvalue(et, x) for x in items]
            return b"".join(out)
        return struct.pack(_SCALAR_FMT[t], v)

    def write(self, path):
        a = self.alignment
        out = [b"GGUF", struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))]
        for key, t, v in self.kv:
            out.append(self._pstr(key) + struct.pack("<I", t) + self._pvalue(t, v))
        off = 0
        offsets = []
        for name, ne, tt, data in self.tensors:
            offsets.append(off)
            out.append(self._pstr(name) + struct.pack("<I", len(ne)) +
                       b"".join(struct.pack("<Q", d) for d in ne) +
                       struct.pack("<IQ", tt, off))
            off += (len(data) + a - 1) // a * a
        head = b"".join(out)
        pad = (-len(head)) % a
        with open(path, "wb") as f:
            f.write(head + b"\0" * pad)
            for (name, ne, tt, data), o in zip(self.tensors, offsets):
                f.write(data)
                f.write(b"\0" * ((-len(data)) % a))


def describe(path, max_array=4):
    """Human-readable dump (used to compare with the fixture)."""
    r = GGUFReader(path)
    lines = [f"version {r.version}, alignment {r.alignment}, "
             f"{len(r.kv)} kv, {len(r.tensors)} tensors"]
    for k, (t, v) in r.kv.items():
        if t == ARR:
            et, items = v
            lines.append(f"  {k}: arr[{TYPE_NAMES[et]}] len {len(items)} "
                         f"{items[:max_array]!r}")
        else:
            lines.append(f"  {k}: {TYPE_NAMES[t]} {v!r}")
    for n, ti in r.tensors.items():
        lines.append(f"  T {n}: {ti['type_name']} ne {ti['ne']}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        print(p)
        print(describe(p))
