"""The words and tables redaction reads by: placeholders, number words, separators and
fillers, months, amounts and times, cue phrases and their windows, email parts."""

from __future__ import annotations

KINDS = ("CARD", "CVV", "EXPIRY", "SSN", "PHONE", "EMAIL", "PIN", "NUMBER")
PLACEHOLDERS = {k: f"[{k}]" for k in KINDS}


# --- vocabulary ------------------------------------------------------------------------------

UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
ZERO = {"zero", "nought", "naught"}
WEAK_ZERO = {"oh", "o"}  # a zero only when touching another digit
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
REPEAT = {"double": 2, "triple": 3, "treble": 3, "quadruple": 4}
HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
FILLERS = {"uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "hmm", "mm", "hm"}
JOIN_WORDS = {"and", "dash", "hyphen", "slash"} | FILLERS
SEPARATOR_CHARS = set(",.-‐‑‒–—―/\\:;()+…·*#'\"?!_")
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun",
           "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
NUMBER_WORDS = (set(UNITS) | ZERO | WEAK_ZERO | set(TEENS) | set(TENS) | set(REPEAT)
                 | {"hundred", "thousand"})
# Words that never count towards distances: whatever a redaction can remove.
UNCOUNTED = NUMBER_WORDS | set(HOMOPHONES) | JOIN_WORDS | MONTHS

CURRENCY = set("$£€¥₹")
QUANTITY_AFTER = {
    "dollar", "dollars", "buck", "bucks", "cent", "cents", "pound", "pounds", "euro", "euros",
    "quid", "percent", "pct", "points", "point", "miles", "mile", "minutes", "minute", "mins",
    "hours", "hour", "hrs", "seconds", "second", "days", "day", "weeks", "week", "months",
    "month", "years", "year", "yrs", "times", "people", "items", "kilos", "kg", "lbs", "feet",
    "foot", "inches", "gb", "mb", "gigs", "megs", "am", "pm", "o'clock", "oclock", "th", "st",
    "nd", "rd", "degrees", "calories", "kids", "users", "lines", "devices", "phones",
}
TEMPORAL_BEFORE = {"at", "on", "by", "until", "till", "til", "around", "before", "after",
                    "from", "since", "in", "during", "between", "about"}

# cue phrases -> kind. "REF" keeps short numbers; "CODE" is a CVV cue only after a card cue.
CUE_PHRASES: list[tuple[tuple[str, ...], str]] = [
    (("card",), "CARD"), (("cards",), "CARD"), (("visa",), "CARD"), (("mastercard",), "CARD"),
    (("master", "card"), "CARD"), (("amex",), "CARD"), (("american", "express"), "CARD"),
    (("discover", "card"), "CARD"), (("credit",), "CARD"), (("debit",), "CARD"),
    (("long", "number"), "CARD"), (("on", "the", "front"), "CARD"), (("last", "four"), "CARD"),
    (("ending", "in"), "CARD"), (("ends", "in"), "CARD"), (("ending", "with"), "CARD"),
    (("sixteen", "digit"), "CARD"), (("sixteen", "digits"), "CARD"), (("pan",), "CARD"),
    (("cvv",), "CVV"), (("cvc",), "CVV"), (("cvv2",), "CVV"), (("cv2",), "CVV"), (("csc",), "CVV"),
    (("c", "v", "v"), "CVV"), (("security", "code"), "CVV"), (("security", "number"), "CVV"),
    (("verification", "code"), "CVV"), (("verification", "value"), "CVV"),
    (("on", "the", "back"), "CVV"), (("three", "digit"), "CVV"), (("three", "digits"), "CVV"),
    (("four", "digit", "code"), "CVV"), (("code",), "CODE"),
    (("exp",), "EXPIRY"), (("exp", "date"), "EXPIRY"), (("valid", "until"), "EXPIRY"),
    (("valid", "thru"), "EXPIRY"), (("valid", "through"), "EXPIRY"), (("good", "through"), "EXPIRY"),
    (("good", "thru"), "EXPIRY"), (("good", "until"), "EXPIRY"),
    (("social",), "SSN"), (("ssn",), "SSN"), (("s", "s", "n"), "SSN"),
    (("social", "security"), "SSN"), (("tax", "id"), "SSN"),
    (("phone",), "PHONE"), (("telephone",), "PHONE"), (("cell",), "PHONE"), (("mobile",), "PHONE"),
    (("callback",), "PHONE"), (("call", "back", "number"), "PHONE"), (("call", "me", "at"), "PHONE"),
    (("call", "me", "on"), "PHONE"), (("call", "me", "back", "at"), "PHONE"),
    (("reach", "me"), "PHONE"), (("reach", "you"), "PHONE"), (("text", "me"), "PHONE"),
    (("contact", "number"), "PHONE"), (("fax",), "PHONE"), (("landline",), "PHONE"),
    (("order",), "REF"), (("ticket",), "REF"), (("case",), "REF"), (("reference",), "REF"),
    (("confirmation",), "REF"), (("tracking",), "REF"), (("invoice",), "REF"), (("claim",), "REF"),
    (("incident",), "REF"), (("receipt",), "REF"), (("ref",), "REF"), (("model",), "REF"),
    (("serial",), "REF"), (("version",), "REF"),
    (("pin",), "PIN"), (("passcode",), "PIN"), (("pass", "code"), "PIN"), (("password",), "PIN"),
    (("email",), "EMAIL"), (("e", "mail"), "EMAIL"), (("e-mail",), "EMAIL"), (("mail",), "EMAIL"),
]
CUE_INDEX: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _phrase, _kind in sorted(CUE_PHRASES, key=lambda p: -len(p[0])):
    CUE_INDEX.setdefault(_phrase[0], []).append((_phrase, _kind))

# How many ordinary words after a cue it still applies to.
WINDOW = {"CARD": 30, "CVV": 12, "EXPIRY": 12, "SSN": 12, "PHONE": 12, "PIN": 8, "REF": 4, "EMAIL": 8}
CHAIN_GAP = 4  # ordinary words allowed between runs of one chain
OPEN_END = 3  # ordinary words after a run that still leave it "open" at an utterance's end

TLDS = {"com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ca", "info", "biz", "me",
         "de", "fr", "au", "in", "mil", "ai", "app", "dev", "ly", "ie", "nz", "es", "it", "nl"}
PROVIDERS = {"gmail", "yahoo", "hotmail", "outlook", "aol", "icloud", "msn", "comcast",
              "protonmail", "proton", "live", "gmx", "verizon", "att", "sbcglobal", "ymail"}
LOCAL_JOIN_WORDS = {"dot", "underscore", "dash", "hyphen", "period", "point"}
LOCAL_JOIN_CHARS = set("._-+")
EMAIL_LEAD = {"is", "it's", "its", "it", "address", "would", "be", "just", "the", "my", "at",
               "me", "to", "'s", "that's", "thats", "yeah", "yes", "sure", "okay", "ok"} | FILLERS
EMAIL_COPULA = {"is", "it's", "its", "'s", "be", "that's", "thats", ":", ","}
