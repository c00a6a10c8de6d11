#!/usr/bin/env python3
"""Sets the intended-use text of an .eimodel (safetensors __metadata__ "intended_use"),
writing a new file; used at build time to label the untrained demo model, since
`eiview-cli init` has no option for it. Standard library only.

    label-model.py IN.eimodel OUT.eimodel "intended use text"
"""
import json
import os
import struct
import sys


def main():
    src, dst, text = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(src, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.setdefault("__metadata__", {})["intended_use"] = text
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # keep the buffer 8-byte aligned, as writers do
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main()
