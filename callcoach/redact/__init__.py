"""PII redaction (moved to callcoach.redact.analysis; split up next)."""

from callcoach.redact import analysis as _analysis
from callcoach.redact.analysis import KINDS, Redaction, StreamRedactor, contains_planted, digit_stream, redact

__all__ = ["KINDS", "Redaction", "StreamRedactor", "contains_planted", "digit_stream", "redact"]

# The vocabulary tables under their old names (tests/test_redact.py builds its word list from them).
_NUMBER_WORDS, _MONTHS, _HOMOPHONES, _JOIN_WORDS, _CUE_PHRASES = (
    _analysis._NUMBER_WORDS, _analysis._MONTHS, _analysis._HOMOPHONES, _analysis._JOIN_WORDS, _analysis._CUE_PHRASES)
