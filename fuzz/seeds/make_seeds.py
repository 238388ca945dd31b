#!/usr/bin/env python3
"""Writes the hand-made seed inputs into corpus/<target>/ (run from fuzz/)."""
import datetime, glob, hashlib, os, struct, urllib.parse

def put(target, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)

# workflow_parser: the shipped workflow files, and a few durations on their own.
for path in sorted(glob.glob("../workflows/*.yaml")) + sorted(glob.glob("../workflows/enkater/*.yaml")):
    put("workflow_parser", open(path, "rb").read())
for d in ["30d", "2w", "12h", "90m", "1d12h", "45s", "catch_up: 14d"]:
    put("workflow_parser", d.encode())

# case_number: year u16 LE, seq u32 LE, then template, prefix, class, typed number.
formats = [
    ("{prefix} {year}/{seq}", "KS", "", 2021, 841, "KS 2021/841"),
    ("{prefix}{year}.{seq:4}", "KS", "", 2022, 435, "KS2022.0435"),
    ("{prefix} {year}-{seq:5}", "KS", "", 2023, 123, "KS 2023-00123"),
    ("{year}/{prefix} {seq:4}", "KS", "", 2022, 136, "2022/KS 0136"),
    ("{prefix}/{year}:{seq}", "KS", "", 2014, 1, "KS/2014:1:2"),
    ("{year}/{prefix} {seq:4} {class}", "KS", "10", 2022, 136, "2022/KS 0136 10"),
    ("{prefix}{year}-{seq}.{class}", "KSM", "051", 2022, 397, "KSM2022-397.051"),
    ("{prefix} {year}/{seq:4} {class}", "KS", "2.4.1", 2019, 87, "KS 2019/0087 2.4.1:3"),
]
for template, prefix, klass, year, seq, typed in formats:
    put("case_number", struct.pack("<HI", year, seq) + "\n".join([template, prefix, klass, typed]).encode())

# deadlines: day (u32, days from 1900-01-01), weeks, months (u32), instant (u64 seconds from
# 1900-01-01 UTC), duration days, duration seconds, flags (u32: low 2 bits duration shape,
# then office hours).
epoch = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
def instant(*a):
    return int((datetime.datetime(*a, tzinfo=datetime.timezone.utc) - epoch).total_seconds())
def day(*a):
    return (datetime.date(*a) - datetime.date(1900, 1, 1)).days
cases = [
    (day(2023, 12, 4), 3, 1, instant(2026, 11, 4, 9), 28, 0, 0),
    (day(2024, 12, 10), 3, 1, instant(2026, 11, 7, 12), 0, 3600, 1),
    (day(2024, 6, 1), 3, 13, instant(2026, 12, 24, 18), 1, 43200, 2),
    (day(2024, 1, 31), 0, 1, instant(2026, 10, 1, 5), 28, 0, 0),
    (day(2026, 3, 7), 60, 0, instant(2026, 10, 25, 1, 30), 0, 1800, 1),  # the repeated hour
    (day(2026, 12, 24), 1, 12, instant(2026, 3, 29, 0, 30), 1, 0, 0),     # before the gap
    (day(1900, 1, 1), 0, 0, instant(1900, 1, 1), 0, 0, 0),
    (day(2200, 12, 31), 5299, 1199, instant(2200, 12, 31, 23, 59), 3659, 86399, 2),
]
for d, w, m, t, dd, ds, flags in cases:
    put("deadlines", struct.pack("<IIIQIII", d, w, m, t, dd, ds, flags | (8 << 8) | (9 << 16)))

# questionnaire_form: 0 = a form body, 1 = structured bytes, 2 = questionnaire YAML, NUL, body.
bodies = [
    [("B1", "delvis"), ("B1.kommentar", "Medarbetarenkät"), ("B3", "2"),
     ("J1.0.atgard", "Utbildning"), ("J1.0.klart", "2027-06-30"), ("atgard", "spara")],
    [("B1", "kanske"), ("B3", "tre"), ("E2", "-1"), ("H1d", "2026-02-30"), ("B1g", "ålder"),
     ("B1g", "stjärntecken"), ("J1.0.omrade", "väder"), ("A2.totalt", "1 200")],
    [("A2.totalt", "12"), ("A2.kvinnor", "7"), ("A2.man", "5"), ("A3", "HR-chef"),
     ("I1.3.status", "delvis genomförd"), ("I1.49.atgard", "x"), ("I1.50.atgard", "y")],
]
for pairs in bodies:
    body = urllib.parse.urlencode(pairs).encode()
    put("questionnaire_form", b"\x00" + body)
put("questionnaire_form", b"\x01" + bytes(range(256)))
put("questionnaire_form", b"\x01" + b"\x07" * 128)
source = open("../workflows/enkater/aktiva-atgarder-2026.yaml", "rb").read()
put("questionnaire_form", b"\x02" + source + b"\x00" + urllib.parse.urlencode(bodies[0]).encode())
