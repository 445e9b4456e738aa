"""KJV corpus for the demo model, from Debian's bible-kjv-text package.

The package installs a compressed text (/usr/lib/bible.data) that only its
`bible` program (package bible-kjv) can read. `bible -l 100000 gen1:1-rev22:21`
prints the whole text pretty-printed: a "<Book> <chapter>" header line per
chapter and one "  <verse> <text>" line per verse (-l 100000: no line breaks
inside a verse). We turn that into plain text with the references stripped:

    Genesis                       <- book name, once per book
    <blank>
    In the beginning God ...      <- one verse per line, no numbers
    And the earth was ...
    <blank>                       <- blank line between chapters
    ...

Whitespace inside verses is normalised (the source has a few double spaces).
The output is deterministic (same package version -> same bytes); its sha256
is logged. Validation split: the last `val_frac` of the bytes, cut at a line
start (that is the end of Revelation and the books before it).
"""
import hashlib
import re
import subprocess

HEADER = re.compile(r"^(.+) (\d+)$")
VERSE = re.compile(r"^ +(\d+) (.*)$")


def kjv_text():
    raw = subprocess.run(["bible", "-l", "100000", "gen1:1-rev22:21"],
                         check=True, capture_output=True).stdout.decode("ascii")
    out = []
    book = None
    n_verses = 0
    for line in raw.split("\n"):
        if not line.strip():
            continue
        m = VERSE.match(line)
        if m:
            out.append(" ".join(m.group(2).split()))
            n_verses += 1
            continue
        m = HEADER.match(line)
        if not m:
            raise ValueError(f"unexpected line from `bible`: {line!r}")
        name = m.group(1)
        if name != book:
            if book is not None:
                out.append("")
            out.append(name)
            book = name
        out.append("")
    if n_verses != 31102:
        raise ValueError(f"expected 31102 verses from `bible`, got {n_verses}")
    text = "\n".join(out).replace("\n\n\n", "\n\n") + "\n"
    return text


def corpus(val_frac=0.02):
    """Returns dict(text, train, val, line_starts_train, line_starts_val, sha256)
    with train/val as bytes and line_starts as offsets of every non-empty line
    inside them (training windows start there)."""
    text = kjv_text()
    data = text.encode("ascii")
    cut = int(len(data) * (1.0 - val_frac))
    cut = data.index(b"\n", cut) + 1
    train, val = data[:cut], data[cut:]

    def starts(b):
        s = [0] + [i + 1 for i, ch in enumerate(b[:-1]) if ch == 10]
        return [i for i in s if b[i] != 10]

    return dict(text=text, train=train, val=val,
                line_starts_train=starts(train), line_starts_val=starts(val),
                sha256=hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    c = corpus()
    print(f"corpus {len(c['text'])} bytes, sha256 {c['sha256']}")
    print(f"train {len(c['train'])} bytes, {len(c['line_starts_train'])} lines; "
          f"val {len(c['val'])} bytes, {len(c['line_starts_val'])} lines")
    print(c["text"][:400])
    print("--- val starts:", c["val"][:200].decode())
