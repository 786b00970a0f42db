"""libphonenumber's verdict on numbers already written in E.164, without its parser, for bulk checks.

`phonenumbers.parse` + `is_valid_number` cost ~30 µs a number; a CSV import of a million contacts
holds half a million phones. For a '+<digits>' string whose country calling code has one region (or
whose first region is chosen without leading digits), libphonenumber's answer is its metadata's
patterns matched against the national number, as long as the national number does not start like
the region's national prefix (which `parse` might strip). Those cases are answered here from the
same metadata (~3 µs); every other number gets None and goes to libphonenumber itself. A test
compares the two on numbers of every region.
"""

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# the number types `_number_type_helper` tries; a number is valid when one of them matches
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")  # fmt: skip
_MIN_NSN, _MAX_NSN = 2, 17  # parse() refuses national numbers outside these lengths


@dataclass(frozen=True)
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern

    def matches(self, nsn: str) -> bool:
        return (not self.lengths or len(nsn) in self.lengths) and self.pattern.fullmatch(nsn) is not None


@dataclass(frozen=True)
class _Rule:
    general: _Desc
    types: tuple[_Desc, ...]
    national_prefix: re.Pattern | None
    single_region: bool


def _desc(desc) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return _Desc(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))


@cache
def _rules() -> dict[str, _Rule | None]:
    rules: dict[str, _Rule | None] = {}
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        general = _desc(metadata.general_desc) if metadata is not None else None
        if general is None or (len(regions) > 1 and metadata.leading_digits is not None):
            rules[str(code)] = None  # region chosen by leading digits: libphonenumber decides
            continue
        types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPES) if d is not None)
        prefix = metadata.national_prefix_for_parsing
        rules[str(code)] = _Rule(general, types, re.compile(prefix) if prefix else None, len(regions) == 1)
    return rules


def e164_is_valid(value: str) -> bool | None:
    """True / False when libphonenumber would surely say the same of `value` ('+' and ASCII digits)
    and would keep it as written; None when only libphonenumber can tell."""
    digits = value[1:]
    if not value.startswith("+") or not digits.isascii() or not digits.isdigit() or digits[0] == "0":
        return None
    rules = _rules()
    for size in (1, 2, 3):
        if digits[:size] in rules:  # the first prefix that is a calling code, as parse() extracts it
            rule, nsn = rules[digits[:size]], digits[size:]
            break
    else:
        return None
    if rule is None or not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return None
    if rule.national_prefix is not None and rule.national_prefix.match(nsn):
        return None  # parse() may strip a national prefix and store another number
    valid = rule.general.matches(nsn) and any(desc.matches(nsn) for desc in rule.types)
    if not valid and not rule.single_region:
        return None  # another region of this calling code may accept it
    return valid


def e164_rule_rows() -> list[tuple[str, int, int, str | None, str, str]]:
    """The rules above as rows for a set-based check in SQL, one per (first three digits, digit
    count): (lead, digits, calling-code length, national-prefix pattern or None, general pattern,
    type patterns), patterns anchored. A number whose row exists, whose national number does not
    match the prefix pattern and matches both others is valid; anything else is for libphonenumber."""
    rows = []
    for lead in (f"{n:03d}" for n in range(100, 1000)):
        code = next((lead[:size] for size in (1, 2, 3) if lead[:size] in _rules()), None)
        rule = _rules().get(code) if code else None
        if rule is None:
            continue
        prefix = f"^(?:{rule.national_prefix.pattern})" if rule.national_prefix else None
        for nsn_length in range(_MIN_NSN, _MAX_NSN + 1):
            if rule.general.lengths and nsn_length not in rule.general.lengths:
                continue
            types = [d.pattern.pattern for d in rule.types if not d.lengths or nsn_length in d.lengths]
            types = list(dict.fromkeys(types))  # fixed-line and mobile patterns are often the same
            if types:
                alternatives = "|".join(f"(?:{pattern})" for pattern in types)
                rows.append((lead, len(code) + nsn_length, len(code), prefix,
                             f"^(?:{rule.general.pattern.pattern})$", f"^(?:{alternatives})$"))  # fmt: skip
    return rows
