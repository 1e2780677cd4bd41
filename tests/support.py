"""Small helpers shared by tests."""

from requests_log.flags import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE


def plain(text: str) -> str:
    """`text` without the directional isolates that set typed words apart
    (requests_log.flags.isolated), for comparing what a person reads."""
    return text.replace(FIRST_STRONG_ISOLATE, "").replace(POP_DIRECTIONAL_ISOLATE, "")
