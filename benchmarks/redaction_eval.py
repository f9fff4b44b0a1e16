"""What callcoach.redact catches and what leaks, on the labeled lines in tests/data/.

Sets: pii_lines.tsv (labeled) and pii_lines_holdout.tsv (held out). Each line is
kind<TAB>secret<TAB>text (see the files' header). A line of several utterances (' || ')
goes through one StreamRedactor, as on a live call; a single line goes through redact()
and, separately, through a fresh StreamRedactor. A positive line is *caught* when none of
its secrets survives (contains_planted on the output for digit secrets, a whole-word match
for word secrets); *partial* lists caught lines where 4 or more consecutive digits of the
secret are still visible, and split card numbers that kept any of their first digits. A
negative line is a *false positive* when its text changes.
`BLIND` records each set's first run, before any rule was changed because of its lines.
The labeled set was written before the rules, but by the same person who then wrote them,
so its first run is only half blind; the held-out set was written after the rules were
frozen and its first run is the honest number.

    .venv/bin/python -m benchmarks.redaction_eval
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from callcoach.redact import StreamRedactor, contains_planted, digit_stream, redact

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
PII_LINES = DATA / "pii_lines.tsv"
HOLDOUT = DATA / "pii_lines_holdout.tsv"
SETS = {"labeled": PII_LINES, "held-out": HOLDOUT}
KIND_ORDER = ["card", "card_spoken", "card_split", "cvv", "expiry", "ssn", "phone", "email", "negative"]


@dataclass(frozen=True)
class Line:
    kind: str
    secrets: tuple[str, ...]
    utterances: tuple[tuple[str, str], ...]  # (speaker, text)
    raw: str


def load(path: Path = PII_LINES) -> list[Line]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path}:{n}: expected kind<TAB>secret<TAB>text")
        kind, secret, text = (p.strip() for p in parts)
        secrets = () if secret == "-" else tuple(s for s in secret.split("|") if s)
        utterances = []
        for u in text.split(" || "):
            speaker = "customer"
            m = re.match(r"(agent|customer):\s*", u)
            if m:
                speaker, u = m.group(1), u[m.end():]
            utterances.append((speaker, u))
        rows.append(Line(kind, secrets, tuple(utterances), text))
    return rows


def run_stream(line: Line) -> list[str]:
    s = StreamRedactor()
    return [s.push(text, speaker) for speaker, text in line.utterances]


def output(line: Line, mode: str = "auto") -> str:
    """The line as it would be stored: redact() for one utterance (mode 'auto'/'redact'),
    StreamRedactor for several or with mode 'stream'."""
    if len(line.utterances) == 1 and mode != "stream":
        return redact(line.utterances[0][1]).text
    return " || ".join(run_stream(line))


def leaked(line: Line, out: str) -> list[str]:
    """The secrets of `line` still present in `out`."""
    bad = []
    for s in line.secrets:
        if s.isdecimal():
            if contains_planted(out, [s]):
                bad.append(s)
        elif re.search(rf"(?<![^\W_]){re.escape(s)}(?![^\W_])", out, re.I):
            bad.append(s)
    return bad


def visible_digits(line: Line, out: str) -> int:
    """Longest run of consecutive secret digits still visible in `out`."""
    stream = digit_stream(out)
    best = 0
    for s in line.secrets:
        if not s.isdecimal():
            continue
        for i in range(len(s)):
            for j in range(len(s), i + best, -1):
                if s[i:j] in stream:
                    best = max(best, j - i)
                    break
    return best


@dataclass
class KindResult:
    kind: str
    lines: int = 0
    caught: int = 0
    leaks: list[tuple[str, str]] | None = None  # (input, output)
    partial: list[tuple[str, str, int]] | None = None
    fp_redact: list[tuple[str, str]] | None = None
    fp_stream: list[tuple[str, str]] | None = None


def evaluate(rows: list[Line] | None = None, mode: str = "auto") -> dict[str, KindResult]:
    rows = load() if rows is None else rows
    out: dict[str, KindResult] = {}
    for line in rows:
        r = out.setdefault(line.kind, KindResult(line.kind, leaks=[], partial=[], fp_redact=[], fp_stream=[]))
        r.lines += 1
        if line.kind == "negative":
            text = line.utterances[0][1]
            red = redact(text).text
            if red != text:
                r.fp_redact.append((text, red))
            st = " || ".join(run_stream(line))
            if st != " || ".join(t for _, t in line.utterances):
                r.fp_stream.append((text, st))
            continue
        o = output(line, mode)
        if leaked(line, o):
            r.leaks.append((line.raw, o))
        else:
            r.caught += 1
            v = visible_digits(line, o)
            if v >= 4 or (v and line.kind == "card_split"):
                r.partial.append((line.raw, o, v))
    return dict(sorted(out.items(), key=lambda kv: KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99))


# Each set's first run, before any change made because of it: {kind: (lines, caught)},
# and the negatives changed (by redact(), by StreamRedactor).
BLIND: dict[str, tuple[dict[str, tuple[int, int]], tuple[int, int]]] = {
    "labeled": ({"card": (14, 14), "card_spoken": (16, 16), "card_split": (11, 11), "cvv": (7, 6),
                 "expiry": (8, 8), "ssn": (7, 7), "phone": (10, 10), "email": (9, 9)}, (0, 3)),
    "held-out": ({"card": (6, 6), "card_spoken": (7, 7), "card_split": (6, 6), "cvv": (5, 5),
                  "expiry": (5, 5), "ssn": (4, 4), "phone": (5, 5), "email": (5, 4)}, (0, 0)),
}


def report(name: str, path: Path) -> None:
    rows = load(path)
    results = evaluate(rows)
    stream_single = evaluate(rows, mode="stream")
    blind, blind_fp = BLIND.get(name, ({}, None))
    print(f"### {name} ({path.name}, {len(rows)} lines)")
    print()
    print("| kind | lines | caught | leaked | caught, single lines via stream | first run (blind) |")
    print("|---|---|---|---|---|---|")
    for kind, r in results.items():
        if kind == "negative":
            continue
        s = stream_single[kind]
        b = blind.get(kind)
        print(f"| {kind} | {r.lines} | {r.caught} | {len(r.leaks)} | {s.caught} | {f'{b[1]}/{b[0]}' if b else '-'} |")
    pos = [r for k, r in results.items() if k != "negative"]
    print(f"| **all PII** | {sum(r.lines for r in pos)} | {sum(r.caught for r in pos)} | "
          f"{sum(len(r.leaks) for r in pos)} | {sum(stream_single[r.kind].caught for r in pos)} | "
          f"{sum(b[1] for b in blind.values())}/{sum(b[0] for b in blind.values())} |")
    neg = results.get("negative")
    if neg:
        print()
        print("| negatives | lines | changed by redact() | changed by StreamRedactor | first run (blind) |")
        print("|---|---|---|---|---|")
        fb = f"{blind_fp[0]} / {blind_fp[1]}" if blind_fp else "-"
        print(f"| negative | {neg.lines} | {len(neg.fp_redact)} | {len(neg.fp_stream)} | {fb} |")
    print()
    print("Leaked (secret still present):")
    any_leak = False
    for kind, r in results.items():
        for raw, o in r.leaks or ():
            any_leak = True
            print(f"  [{kind}] {raw}\n      -> {o}")
    for kind, r in stream_single.items():
        for raw, o in r.leaks or ():
            if len(raw.split(" || ")) == 1:
                any_leak = True
                print(f"  [{kind}, via stream] {raw}\n      -> {o}")
    if not any_leak:
        print("  none")
    print()
    print("Caught, but some secret digits still visible (4+ in a row; any, for split cards):")
    any_partial = False
    for kind, r in results.items():
        for raw, o, v in r.partial or ():
            any_partial = True
            print(f"  [{kind}] {v} digits: {raw}\n      -> {o}")
    if not any_partial:
        print("  none")
    if neg:
        print()
        print("Negatives changed:")
        for text, o in neg.fp_redact:
            print(f"  [redact()] {text}\n      -> {o}")
        for text, o in neg.fp_stream:
            print(f"  [stream]   {text}\n      -> {o}")
        if not neg.fp_redact and not neg.fp_stream:
            print("  none")
    print()


def main() -> None:
    for name, path in SETS.items():
        report(name, path)


if __name__ == "__main__":
    main()
