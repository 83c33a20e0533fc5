#!/usr/bin/env python3
"""Fail, naming them, when a public op of include/nabla/*.h has no entry in
the op table (tests/op_table.h).

    op_table_coverage.py SOURCE_ROOT TEST_OP_TABLE

An op is every public function declared as `nb_tensor *nb_x(nb_tape *tape,
...)`; the headers are parsed by scripts/api_doc.py. The entries' names come
from `TEST_OP_TABLE --list`.
"""
import os
import re
import subprocess
import sys

# Declared like ops but not ops: nb_op_apply applies any nb_op (every entry
# goes through it), and nb_tape_tensor allocates an uninitialized tensor on
# the tape; neither computes anything an entry could check.
NOT_OPS = {"nb_op_apply", "nb_tape_tensor"}

OP_DECL = re.compile(r"^nb_tensor\s*\*\s*(nb_\w+)\s*\(\s*nb_tape\s*\*\s*\w*\s*[,)]")


def public_ops(root):
    sys.path.insert(0, os.path.join(root, "scripts"))
    import api_doc  # the headers' parser: headers() and functions()
    ops = []
    for header in api_doc.headers():
        path = os.path.join(api_doc.INCLUDE, header)
        names = {name for name, _ in api_doc.functions(path)}
        text = re.sub(r"/\*.*?\*/", " ", open(path).read(), flags=re.S)
        text = re.sub(r"^#.*$", " ", text, flags=re.M)
        for decl in re.sub(r"\s+", " ", text).split(";"):
            m = OP_DECL.match(decl.strip())
            if m and m.group(1) in names and m.group(1) not in NOT_OPS:
                ops.append((header, m.group(1)))
    return ops


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, driver = sys.argv[1], sys.argv[2]
    listed = subprocess.run([driver, "--list"], check=True, capture_output=True, text=True)
    entries = set(listed.stdout.split())
    ops = public_ops(root)
    missing = [(h, name) for h, name in ops if name not in entries]
    for h, name in missing:
        print(f"{name} (include/nabla/{h}) has no entry in the op table: add one to the "
              "family file tests/op_table_<family>.c (docs/testing.md)")
    unknown = sorted(entries - {name for _, name in ops})
    for name in unknown:
        print(f"the op table has an entry {name}, which is not a public op")
    print(f"{len(ops) - len(missing)} of {len(ops)} public ops have an entry")
    return 1 if missing or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
