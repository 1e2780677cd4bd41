"""Text that people typed, set among our own words."""

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolated(value: object) -> str:
    """`value` wrapped in Unicode's directional isolates (FSI … PDI), so that a
    right-to-left name, or a right-to-left override typed into one, cannot reorder the
    dates and words around it: on pages, in the PDF and in the CSV alike."""
    text = str(value)
    if not text:
        return text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
