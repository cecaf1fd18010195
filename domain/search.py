"""Folding names for R13's search: case- and accent-insensitive, so "å", "ä" and "ö" match
their plain letters in both directions and "ÅSE", "åse" and "ase" all find "Åse"."""

import unicodedata


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()
