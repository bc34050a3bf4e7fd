#!/usr/bin/env python3
"""The Python baseline of the whole-process comparison in the README.

The same import as `cargo run --release --example import`, written the way a
Python service would: the csv module, the `phonenumbers` package (Google's
libphonenumber) for validation and E.164, and a dict upsert.

    pip install phonenumbers
    cargo run --release --example generate -- 200000 > big.csv
    /usr/bin/time -v python3 benches/python_baseline.py big.csv
"""
import csv
import re
import sys

import phonenumbers

TAGS = {
    "MBA", "Finance", "Marketing", "Engineering", "Design", "Sales", "Support",
    "VIP", "Lead", "Customer", "Partner", "Webinar", "Newsletter", "Trial",
    "Premium", "Student", "Alumni", "Event", "Referral", "Churned",
}
ATTRIBUTES = ("City", "email", "State")
SCIENTIFIC = re.compile(r"^\d+(\.\d*)?[eE]\+?\d+$")
SEPARATORS = str.maketrans("", "", " -.()")


def normalize_phone(cell):
    """E.164 by the engine's rules, or None when the row fails."""
    text = cell.strip().lstrip("'").strip()
    if not text or SCIENTIFIC.match(text):
        return None
    text = text.translate(SEPARATORS)
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits.isdigit():
        return None
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if not international:
        if len(digits) == 10:
            digits = "91" + digits
        elif len(digits) == 11 and digits.startswith("0"):
            digits = "91" + digits[1:]
        elif not (len(digits) == 12 and digits.startswith("91")):
            return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def main(path):
    store = {}
    added = updated = failed = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {h: i for i, h in enumerate(header)}
        for row in reader:
            if len(row) != len(header):
                failed += 1
                continue
            name = " ".join(row[col["Name"]].split())
            phone = normalize_phone(row[col["Mobile Number"]])
            if not name or phone is None:
                failed += 1
                continue
            tags = []
            for tag in (t.strip() for t in row[col["Tags"]].split("|")):
                if tag in TAGS and tag not in tags:
                    tags.append(tag)
            contact = store.get(phone)
            if contact is None:
                contact = {"phone": phone, "tags": [], "source": "IMPORT", "attributes": {}}
                store[phone] = contact
                added += 1
            else:
                updated += 1
            contact["name"] = name
            contact["tags"].extend(t for t in tags if t not in contact["tags"])
            source = row[col["Source"]].strip()
            if source:
                contact["source"] = source
            first = row[col["First Message"]].strip()
            if first in TAGS:
                contact["first_message"] = first
            for attribute in ATTRIBUTES:
                value = row[col[attribute]].strip()
                if value:
                    contact["attributes"][attribute] = value
    print(f"{path}: {added + updated + failed} rows, {added} added, {updated} updated, {failed} failed")


if __name__ == "__main__":
    main(sys.argv[1])
