#!/usr/bin/env python3
"""Writes tests/data/phone_reference.tsv: the corpus of tests/it/phone_reference.rs
and what Google's libphonenumber (Python `phonenumbers`) answers for each cell,
parsed with default region IN.

Each line: cell (tabs and newlines escaped as \\t, \\n, backslash as \\\\), a tab,
the E.164 form when libphonenumber parses the cell and holds it valid (`-`
otherwise), a tab, the number type (`-` when invalid), a tab, the region the
cell was made from (`001` for non-geographic codes, `-` for random digits). The first line is a
comment naming the phonenumbers version. Deterministic: the same version
writes the same file. Run through scripts/update-phone-metadata.
"""

import os
import random
import sys

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import (COUNTRY_CODE_TO_REGION_CODE,
                                          REGION_CODE_FOR_NON_GEO_ENTITY)

TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
DESCS = ["general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
         "personal_number", "voip", "pager", "uan", "voicemail"]


def answer(cell):
    try:
        number = phonenumbers.parse(cell, "IN")
    except phonenumbers.NumberParseException:
        return "-", "-"
    if not phonenumbers.is_valid_number(number):
        return "-", "-"
    return (phonenumbers.format_number(number, PhoneNumberFormat.E164),
            TYPE_NAMES[phonenumbers.number_type(number)])


def examples():
    """(calling code, national example, national prefix) of every type of every region."""
    out = []
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        for rid in COUNTRY_CODE_TO_REGION_CODE[code]:
            if rid == REGION_CODE_FOR_NON_GEO_ENTITY:
                meta = PhoneMetadata.metadata_for_nongeo_region(code, None)
            else:
                meta = PhoneMetadata.metadata_for_region(rid, None)
            if meta is None:
                continue
            for name in DESCS:
                desc = getattr(meta, name)
                if desc is not None and desc.example_number:
                    out.append((rid, code, desc.example_number, meta.national_prefix or ""))
    return out


def variations(rng, national):
    """The example, one digit more, one less, and a digit changed."""
    yield national
    yield national + str(rng.randrange(10))
    if len(national) > 1:
        yield national[:-1]
        at = rng.randrange(len(national))
        yield national[:at] + str((int(national[at]) + 1 + rng.randrange(9)) % 10) + national[at + 1:]


def international(rng, code, national, prefix):
    cells = []
    for n in variations(rng, national):
        cells.append("+%d%s" % (code, n))
        cells.append("+%d %s" % (code, spaced(rng, n)))
        cells.append("00%d%s" % (code, n))
    if prefix:
        cells.append("+%d %s%s" % (code, prefix, national))
        cells.append("+%d (%s)%s" % (code, prefix, national))
    return cells


def spaced(rng, digits):
    out, i = [], 0
    while i < len(digits):
        step = rng.choice([2, 3, 4, 5])
        out.append(digits[i:i + step])
        i += step
    return rng.choice([" ", "-", ".", " - ", "\u2013", "\u2011"]).join(out)


def indian(rng):
    cells = []
    for _ in range(1500):
        lead = rng.choice("6789")
        n = lead + "".join(str(rng.randrange(10)) for _ in range(9))
        cells += rng.sample([n, "0" + n, "91" + n, "+91" + n, "+91 " + n[:5] + " " + n[5:],
                             "0091 " + n, "91 (0) " + n[:5] + " " + n[5:], "(+91) " + n,
                             n[:5] + "\u2013" + n[5:], n[:5] + "\u2014" + n[5:],
                             n[:5] + "\u2212" + n[5:], n[:3] + "/" + n[3:],
                             "+91-" + n[:3] + "-" + n[3:6] + "-" + n[6:], "'" + n, "'+91" + n,
                             "\u00a0" + n + " ", "+91 0" + n, "0 " + n], 4)
    # Landlines: STD code with or without 0, and the area codes of the metadata's example.
    for _ in range(1500):
        area = rng.choice(["11", "22", "33", "44", "80", "40", "20", "79", "120", "124", "141", "172",
                           "484", "491", "522", "612", "657", "755", "824", "832", "895", "1232",
                           "2162", "3592", "4286", "5412", "6752", "7582", "8192"])
        rest = "".join(str(rng.randrange(10)) for _ in range(10 - len(area)))
        lead = rng.choice("2345")
        rest = lead + rest[1:]
        n = area + rest
        cells += rng.sample(["0" + n, n, "+91" + n, "0" + area + "-" + rest, "(0" + area + ") " + rest,
                             "91" + n, "+91 " + area + " " + rest, "0" + area + " " + rest + "0",
                             "0" + area + " " + rest[:-1]], 3)
    # Toll-free, shared cost, premium.
    for _ in range(400):
        tail7 = "".join(str(rng.randrange(10)) for _ in range(7))
        for base in ["1800" + tail7[:6], "1800" + tail7, "1800" + tail7 + "1", "1860" + tail7[:6] + "12",
                     "1860" + tail7, "000800" + tail7, "1900" + tail7[:6], "1803" + tail7 + "12",
                     "18001" + tail7[:5], "1600" + tail7[:6]]:
            cells += rng.sample([base, "0" + base, "91 " + base, "+91 " + base, "+91" + base,
                                 spaced(rng, base), "000 800 " + tail7[:3] + " " + tail7[3:]], 2)
    cells += ["1800 632 8268", "18006328268", "018006328268", "91 1800 632 8268", "1860 345 1234",
              "000 800 100 1234", "91 (0) 98765 43210", "98765\u201343210", "+91 000800 1001234"]
    return cells


def damage(rng):
    cells = []
    for _ in range(800):
        n = rng.choice("6789") + "".join(str(rng.randrange(10)) for _ in range(9))
        cells += rng.sample(["91" + n + ".0", n + ".0", "9.1" + n[:-1] + "E+11",
                             n[0] + "." + n[1:] + "E9", "=\"" + n + "\"", "=\"+91" + n + "\"",
                             "=" + n, n + "abc", "98765abcde", "tel:+91" + n, n + " ext 12",
                             "+91 " + n + " / " + n, "#" + n, n + "*", "", "   ", "-", "+", "++91" + n,
                             n + "+", "9" * rng.randrange(16, 21), "+" + "1" * rng.randrange(16, 21),
                             "\u0966" + n[1:], "\uff19" + n[1:], "+\u200b91" + n], 3)
    return cells


def lengths(rng):
    cells = []
    for length in range(1, 21):
        for _ in range(120):
            first = rng.choice("0123456789")
            d = first + "".join(str(rng.randrange(10)) for _ in range(length - 1))
            cells += [d, "+" + d]
    return cells


FULL = ["IN", "AE", "SA", "US", "GB", "SG", "NP", "BD", "LK", "QA", "OM", "KW", "BH", "MY",
        "AU", "CA"]


def full_regions(rng):
    """Random national numbers of every possible length of the regions the
    issue asks full agreement for, in `+`, `00` and national-prefix forms."""
    cells = []
    for rid in FULL:
        meta = PhoneMetadata.metadata_for_region(rid, None)
        code = meta.country_code
        for _ in range(150):
            length = rng.choice(meta.general_desc.possible_length)
            n = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
            form = rng.choice(["+%d%s", "+%d %s", "00%d%s", "+%d 0%s"])
            cells.append((rid, form % (code, spaced(rng, n) if " " in form else n)))
    return cells


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "data", "phone_reference.tsv")
    rng = random.Random(14)
    cells = []
    for rid, code, national, prefix in examples():
        cells += [(rid, c) for c in international(rng, code, national, prefix)]
    cells += full_regions(rng)
    cells += [("IN", c) for c in indian(rng) + damage(rng)] + [("-", c) for c in lengths(rng)]
    seen, lines = set(), ["# phonenumbers %s, default region IN" % phonenumbers.__version__]
    for region, cell in cells:
        if cell in seen:
            continue
        seen.add(cell)
        e164, kind = answer(cell)
        escaped = cell.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        lines.append("%s\t%s\t%s\t%s" % (escaped, e164, kind, region))
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%d cells" % (len(lines) - 1))


if __name__ == "__main__":
    main()
