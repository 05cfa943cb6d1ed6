#!/usr/bin/env python3
"""Compares two safetensors files tensor by tensor, bit for bit (Python standard library only).

usage: compare-safetensors.py A B

Prints one line per tensor that differs (dtype, shape, or bytes: for F32 the number of differing
elements and the largest absolute difference) and a summary line; exit 0 when every tensor of A is
in B with identical dtype, shape and bytes and B has no other tensor, 1 otherwise, 2 when a file
cannot be read as safetensors. The metadata (`__metadata__`) is not compared.
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = (info["dtype"], tuple(info["shape"]), data[start:end])
    return tensors


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    a_path, b_path = sys.argv[1], sys.argv[2]
    try:
        a, b = read(a_path), read(b_path)
    except (OSError, ValueError, KeyError) as e:
        print(f"compare-safetensors: {e}", file=sys.stderr)
        return 2
    differing = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"  {name}: only in {a_path if name in a else b_path}")
            differing += 1
            continue
        (da, sa, xa), (db, sb, xb) = a[name], b[name]
        if (da, sa) != (db, sb):
            print(f"  {name}: {da}{list(sa)} vs {db}{list(sb)}")
            differing += 1
        elif xa != xb:
            detail = ""
            if da == "F32":
                va = struct.unpack(f"<{len(xa) // 4}f", xa)
                vb = struct.unpack(f"<{len(xb) // 4}f", xb)
                diffs = [abs(p - q) for p, q in zip(va, vb) if p != q]
                detail = f": {len(diffs)} of {len(va)} elements differ, max |diff| {max(diffs):.3g}"
            print(f"  {name}: bytes differ{detail}")
            differing += 1
    if differing:
        print(f"DIFFERENT: {differing} of {len(set(a) | set(b))} tensors differ")
        return 1
    print(f"IDENTICAL: {len(a)} tensors bit for bit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
