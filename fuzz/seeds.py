"""Writes the seed corpus: small versions of the hostile-file catalogue.

Each file starts with the options byte the fuzz target reads first.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "import")

def utf16(text, le=True):
    return (b"\xff\xfe" + text.encode("utf-16-le")) if le else (b"\xfe\xff" + text.encode("utf-16-be"))

H = "Name,Mobile Number,Tags,Source,First Message,City,email,State\n"
SEEDS = {
    "guide": H + "Mohit Dua,+919876543452,MBA,Website,,Delhi,m@x.in,Delhi\nA B,9876543210,MBA | Finance,,Finance,Pune,,\n",
    "empty": "",
    "header-only": "Name,Phone\n",
    "bom-only": "\ufeff",
    "whitespace": "   \n \t \n",
    "nul": "Name,Phone\nAs\0ha,9876543210\n",
    "cp1252": b"Name,Phone\nCaf\xe9,9876543210\n",
    "semicolon": "Name;Phone;City\nAsha;9876543210;Pune\n",
    "tab": "Name\tPhone\nAsha\t9876543210\n",
    "unbalanced-quote": "Name,Phone\n\"Asha,9876543210\nRavi,9876543211\n",
    "blank-headers": ",,\nAsha,9876543210,\n",
    "duplicate-headers": "Name,Phone,Phone\nA,9876543210,9876543211\n",
    "emoji-rtl-zw": "Name,Phone\n\U0001F600 P,9876543210\nمحمد علي,9876543211\n\u200bAs\u200bha,9876543212\n",
    "unicode-digits": "Name,Phone\nAsha,९८७६५४३२१०\nRavi,＋９１９８７６５４３２１１\nMeera,98765\u00a043212\n",
    "phones": "Name,Phone\nA,9876543210 x123\nB,98765abcde\nC,9.19876E+11\nD,919876543452.0\nE,+39 02 3661 8300\nF,9105925395\nG,+\nH,00919876543210\n",
    "formula": "Name,Phone\n\"=HYPERLINK(\"\"http://x\"\",\"\"c\"\")\",9876543210\n",
    "cr-only": "Name,Phone\rAsha,9876543210\r",
    "field-counts": "Name,Phone,City\nA,9876543210,P,x\nB,9876543211\n",
    "dupes": "Name,Phone,Tags\nA,9876543210,MBA\nB,+919876543210,Finance\nC,09876543210,\n",
    "first-last": "Given Name,Family Name,Phone 1 - Value\nAsha,Rao,9876543210\n",
    "hindi": "नाम,मोबाइल नंबर\nआशा,9876543210\n",
}

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, content in SEEDS.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b"\x00" + data)
    with open(os.path.join(OUT, "utf16le-tab"), "wb") as f:
        f.write(b"\x00" + utf16("Name\tPhone\nCafé\t9876543210\n"))
    with open(os.path.join(OUT, "utf16be"), "wb") as f:
        f.write(b"\x00" + utf16("Name,Phone\nAsha,9876543210\n", le=False))

if __name__ == "__main__":
    main()
