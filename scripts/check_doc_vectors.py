#!/usr/bin/env python3
"""Checks that the normative documents hold their vector files' values, so neither drifts from the other.

    check_doc_vectors.py PROTOCOL.md protocol_v2.txt
        docs/PROTOCOL.md section 13's fenced block is tests/vectors/protocol_v2.txt verbatim (the file is recomputed
        by ProtocolVectors.MatchTheCheckedInVectors).
    check_doc_vectors.py --spec SPEC.md spec_v2.json
        docs/SPEC.md section 9 states every value of tests/vectors/spec_v2.json (which spec_vectors_test and
        scripts/spec_reference.py recompute): every hash, seed, key and bit pattern, the int8 element lists, each
        shape's row, each high-block element's row, the tie's position and the zero's index, and the multiproof
        file byte for byte.

Prints one line per failure and "N passed, F failed"; exit status 0 only when nothing failed.
"""
import json
import re
import sys


def protocol(doc_path, vectors_path):
    doc = open(doc_path, encoding="utf-8").read()
    section = doc.split("## 13. Test vectors", 1)
    if len(section) != 2 or "```\n" not in section[1]:
        print(f"{doc_path}: no section 13 with a fenced vectors block")
        return 0, 1
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
        return 0, 1
    print(f"{doc_path} section 13 equals {vectors_path}")
    return 1, 0


def spec_expectations(v):
    """(what, text) pairs: each text must occur in section 9 (whitespace runs compared as one space)."""
    out = []

    def hexes(what, xs):
        out.extend((what, "`%s`" % x if len(x) <= 8 else x) for x in xs)

    for name in ("int8", "fp32-ordered"):
        w = v[name]
        hexes(name + " seed", [w["seed"]])
        hexes(name + " philox key", w["philox_key"])
        for key in ("a_first8", "b_first8"):
            out.append((f"{name} {key}", "`%s`" % " ".join(str(x) for x in w[key])))
        out.extend((f"{name} leaf {i}", "%d %s" % (i, h))
                   for i, h in enumerate(w["leaf_hashes"]))
        out.append((name + " root", "root: `%s`" % w["root"]))
        out.append((name + " shape", "M = %d, N = %d, K = %d, T = %d" % (w["m"], w["n"], w["k"], w["tile"])))
    p = v["proofs"]
    for x in p["inclusion"]:
        out.append(("inclusion path of leaf %d" % x["leaf"], "- leaf %d: ``` %s ```" % (x["leaf"], " ".join(x["path"]))))
    mp = p["multiproof"]
    out.append(("multiproof indices", "S = %s" % json.dumps(mp["indices"])))
    out.append(("multiproof hashes", "``` %s ```" % " ".join(mp["hashes"])))
    for x in v["shapes"]:
        out.append(("shape %s %dx%dx%d T %d" % (x["workload"], x["m"], x["n"], x["k"], x["tile"]),
                    "| %s | %d | %d | %d | %d | %d | `%s` |" % (x["workload"], x["m"], x["n"], x["k"], x["tile"],
                                                              x["leaf_count"], x["root"])))
        hexes("shape seed", [x["seed"]])
    for key in ("fp32_tie", "fp32_zero"):
        x = v[key]
        out.append((key + " parameters", "seed `%s`, M = %d, N = %d, K = %d, T = %d: root `%s`"
                    % (x["seed"], x["m"], x["n"], x["k"], x["tile"], x["root"])))
    t = v["fp32_tie"]
    out.append(("fp32_tie position", "Step k = %d of the chain of C[%d][%d]" % (t["step"], t["i"], t["j"])))
    out.append(("fp32_tie values", "`C[%d][%d]` = `%s`" % (t["i"], t["j"], t["c_ties_even"])))
    hexes("fp32_tie ties-away value", [t["c_ties_away"]])
    out.append(("fp32_zero index", "A element %d " % v["fp32_zero"]["a_zero_index"]))
    out.extend((key + " found_by", v[key]["found_by"]) for key in ("fp32_tie", "fp32_zero"))
    for e in v["philox_high_word"]:
        out.append(("philox_high_word %s" % e["workload"], "%s, seed `%s`, M = %d, N = %d, K = %d"
                    % (e["workload"], e["seed"], e["m"], e["n"], e["k"])))
        out.extend(("philox_high_word element %d" % el["index"],
                    "| %d | %d | `%s` |" % (el["index"], el["block"], el["value"])) for el in e["elements"])
    return out


def spec(doc_path, vectors_path):
    doc = open(doc_path, encoding="utf-8").read()
    start, end = doc.find("## 9. Test vectors"), doc.find("## 10.")
    if start < 0 or end < start:
        print(f"{doc_path}: no section 9 followed by section 10")
        return 0, 1
    section = doc[start:end]
    flat = " ".join(section.split())
    v = json.load(open(vectors_path, encoding="utf-8"))
    passed = failed = 0
    for what, text in spec_expectations(v):
        if " ".join(text.split()) in flat:
            passed += 1
        else:
            failed += 1
            print(f"{doc_path} section 9 lacks {what}: {text[:150]}")
    # The multiproof file: the first column of the fenced block after "**Multiproof file**", concatenated.
    m = re.search(r"\*\*Multiproof file\*\*.*?```\n(.*?)```", section, re.S)
    got = "".join(line.split()[0] for line in m.group(1).splitlines() if line.strip()) if m else None
    if got == v["proofs"]["multiproof_file"]:
        passed += 1
    else:
        failed += 1
        print(f"{doc_path} section 9: the multiproof file block is not the file's bytes")
    print(f"{doc_path} section 9 against {vectors_path}: {passed} values present, {failed} missing or different")
    return passed, failed


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--spec":
        passed, failed = spec(args[1], args[2])
    elif len(args) == 2:
        passed, failed = protocol(args[0], args[1])
    else:
        print("usage: check_doc_vectors.py PROTOCOL.md protocol_v2.txt | --spec SPEC.md spec_v2.json")
        return 2
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
