#!/usr/bin/env python3
"""Check that rejit-corpus's code-size table adds up: every source's row
(programs measured, JITed bytes before and after, geomeans, worst) is what
its per-program rows say, and the "all" row is the sum of the sources and
agrees with the "corpus:" totals. Exit 1 with the first mismatch.

    check_sizes.py CORPUS_OUTPUT
"""
import math
import sys


def fail(msg):
    print(f"FAIL: corpus size table: {msg}", file=sys.stderr)
    sys.exit(1)


def tally():
    """Programs measured, JITed bytes before/after, log sums, worst ratio."""
    return dict(n=0, jb=0, ja=0, lj=0.0, li=0.0, worst=0.0)


def pair(s):
    a, b = s.split("->")
    return int(a), int(b)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    lines = open(sys.argv[1]).read().splitlines()
    try:
        head = next(i for i, l in enumerate(lines) if l.split()[:2] == ["source", "program"])
        table = next(i for i, l in enumerate(lines) if l.startswith("code size per source"))
        totals = next(l for l in lines if l.startswith("corpus: "))
    except StopIteration:
        fail("no program table, size table or corpus totals in the output")

    # per source from the program rows: accepted rewrites only
    want = {}
    for l in lines[head + 1:]:
        if not l.strip():
            break
        f = l.split()
        src, insns, jited, verdict = f[0], pair(f[4]), pair(f[5]), " ".join(f[6:])
        if not verdict.startswith("accepted") or not insns[0] or not jited[0]:
            continue
        w = want.setdefault(src, tally())
        w["n"] += 1
        w["jb"] += jited[0]
        w["ja"] += jited[1]
        w["lj"] += math.log(jited[1] / jited[0])
        w["li"] += math.log(insns[1] / insns[0])
        w["worst"] = max(w["worst"], jited[1] / jited[0])

    rows = {}
    for l in lines[table + 2:]:
        f = l.split()
        if len(f) != 9:
            break
        rows[f[0]] = f
    if "all" not in rows:
        fail("no 'all' row")

    def check(src, f, w):
        name, objects, programs, measured, jb, ja, geo, worst, geo_i = f
        if int(measured) != w["n"] or int(jb) != w["jb"] or int(ja) != w["ja"]:
            fail(f"{src}: measured {measured}, bytes {jb} -> {ja}; the program rows "
                 f"say {w['n']}, {w['jb']} -> {w['ja']}")
        if not w["n"]:
            if (geo, worst, geo_i) != ("-", "-", "-"):
                fail(f"{src}: geomeans without measured programs")
            return
        for what, got, exp in (("geo-jited", geo, math.exp(w["lj"] / w["n"])),
                               ("worst", worst, w["worst"]),
                               ("geo-insns", geo_i, math.exp(w["li"] / w["n"]))):
            if abs(float(got) - exp) > 0.0015:
                fail(f"{src}: {what} {got}, the program rows give {exp:.4f}")

    total = tally()
    objects = programs = 0
    for src, f in rows.items():
        if src == "all":
            continue
        w = want.pop(src, tally())
        check(src, f, w)
        for k in ("n", "jb", "ja", "lj", "li"):
            total[k] += w[k]
        total["worst"] = max(total["worst"], w["worst"])
        objects += int(f[1])
        programs += int(f[2])
    if want:
        fail(f"program rows of sources without a size row: {sorted(want)}")
    check("all", rows["all"], total)
    if (int(rows["all"][1]), int(rows["all"][2])) != (objects, programs):
        fail(f"all: {rows['all'][1]} objects, {rows['all'][2]} programs; the sources "
             f"add up to {objects}, {programs}")
    t = totals.split()
    if (int(t[1]), int(t[3])) != (objects, programs):
        fail(f"'{totals}' vs {objects} objects, {programs} programs in the size table")
    print(f"corpus size table adds up: {len(rows) - 1} sources, {total['n']} programs, "
          f"{total['jb']} -> {total['ja']} JITed bytes")


main()
