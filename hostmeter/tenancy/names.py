"""Names as people search and sort them, the same on every database.

SQLite's lower() and LIKE fold ASCII letters only, and PostgreSQL sorts by its
collation (C.UTF-8 puts "Émile" after "Zeta"), so "cafe" did not find "Café" and the
two engines listed names in different orders. The folding happens here instead, once,
when a name is stored: its key is what lists sort by and what a search matches.
Changing name_key() changes what is stored: it needs a migration that keys every
reseller and organization again (as tenancy 0005 did first), or searches miss.
"""

import unicodedata

KEY_LENGTH = 255
# Latin letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ı": "i"}
)


def name_key(name: str) -> str:
    """The name folded for sorting and searching.

    Compatibility forms are decomposed (ﬁ → fi, ² → 2), accents and other combining
    marks dropped (é → e, ñ → n), case folded (Straße → strasse), the Latin letters
    without a decomposition spelled plainly (Ørsted → orsted, Łódź → lodz) and blanks
    collapsed.
    Never empty for a name that is not empty: a name of marks or blanks alone keeps them.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)
    key = " ".join(bare.split()) or " ".join(decomposed.split()) or name
    return key[:KEY_LENGTH]
