#!/usr/bin/env python3
"""Checks that the test-vector block of docs/PROTOCOL.md section 13 is tests/vectors/protocol_v1.txt verbatim.

The vectors file is recomputed by ProtocolVectors.MatchTheCheckedInVectors; this keeps the normative document from
drifting away from it. Usage: check_doc_vectors.py PROTOCOL.md protocol_v1.txt
"""
import sys


def main() -> int:
    doc_path, vectors_path = sys.argv[1], sys.argv[2]
    doc = open(doc_path, encoding="utf-8").read()
    section = doc.split("## 13. Test vectors", 1)
    if len(section) != 2 or "```\n" not in section[1]:
        print(f"{doc_path}: no section 13 with a fenced vectors block")
        print("0 passed, 1 failed")
        return 1
    block = section[1].split("```\n", 2)[1]
    vectors = open(vectors_path, encoding="utf-8").read()
    if block != vectors:
        doc_lines, file_lines = block.splitlines(), vectors.splitlines()
        for i, (a, b) in enumerate(zip(doc_lines, file_lines)):
            if a != b:
                print(f"line {i + 1} differs:\n  doc:  {a[:120]}\n  file: {b[:120]}")
                break
        else:
            print(f"line counts differ: doc {len(doc_lines)}, file {len(file_lines)}")
        print("0 passed, 1 failed")
        return 1
    print(f"{doc_path} section 13 equals {vectors_path}")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
