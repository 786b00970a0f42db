"""What reviewers change in AI drafts: pure analysis of (drafted, sent) pairs of one intent,
channel and language. The service `draft_edits_learn` stores the result as DraftEditPattern rows
and the draft composer reads them as prompt guidance (madansara.guidance)."""

import re
import statistics
from collections import Counter
from dataclasses import dataclass

# A few hundred of the most frequent function words are enough to tell these languages apart in a
# reply of a sentence or more (a draft in the wrong language is the error reviewers fix).
_STOPWORDS = {
    "en": "the and you your for with this that are have will we our is to of it in on be please thank",
    "es": "el la los las que de y en un una por para con su sus es gracias le lo nos usted está",
    "fr": "le la les des et en un une pour avec vous votre est que nous merci dans sur pas ce",
    "pt": "o a os as que de e em um uma para com você seu sua é obrigado obrigada não nos",
    "de": "der die das und ist nicht sie ich wir ihr ihre mit für auf danke bitte ein eine",
    "ht": "mwen ou nou li yo se pa ak pou nan sa gen mèsi tanpri kounye a",
}
STOPWORDS = {language: frozenset(words.split()) for language, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CLAUSE = re.compile(r"[.!?;:,\n]+")
MIN_DRAFTS = 5  # fewer decided drafts than this teach nothing reliable
PHRASE_SHARE = 0.3  # a phrase counts when reviewers remove (or add) it in this share of edits


@dataclass(frozen=True)
class Draft:
    drafted: str
    sent: str  # what went out ('' when rejected)
    edited: bool
    rejected: bool
    reason: str = ""


def language_of(text: str) -> str | None:
    """The language whose function words the text uses most, or None when it uses too few."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 4:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= 2 and scores[best] >= 0.1 * len(words) else None


def _phrases(text: str) -> set[str]:
    """Two- and three-word phrases, never across punctuation."""
    found = set()
    for clause in _CLAUSE.split(text):
        words = [w.lower() for w in _WORD.findall(clause)]
        found.update(" ".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1))
    return found


def _frequent(counter: Counter, total: int, limit: int = 5) -> list[str]:
    """The most frequent phrases (longer first on ties, then alphabetical: stable across runs)."""
    ranked = sorted(counter.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))
    return [phrase for phrase, count in ranked if count >= max(2, PHRASE_SHARE * total)][:limit]


def edit_patterns(drafts: list[Draft], *, language: str) -> dict:
    """Counts, median length ratio, wrong-language drafts, phrases reviewers remove or add, and
    the guidance notes they add up to."""
    edited = [d for d in drafts if d.edited and d.sent and not d.rejected]
    rejected = [d for d in drafts if d.rejected]
    ratios = [len(d.sent) / len(d.drafted) for d in edited if d.drafted]
    ratio = statistics.median(ratios) if ratios else None
    wrong = [d for d in drafts if (found := language_of(d.drafted)) is not None and language and found != language]
    removed, added = Counter(), Counter()
    for d in edited:
        before, after = _phrases(d.drafted), _phrases(d.sent)
        removed.update(before - after)
        added.update(after - before)
    result = {
        "drafts": len(drafts),
        "edited": len(edited),
        "rejected": len(rejected),
        "length_ratio": ratio,
        "suggested_max_length": None,
        "wrong_language": len(wrong),
        "removed_phrases": _frequent(removed, len(edited)),
        "added_phrases": _frequent(added, len(edited)),
        "notes": [],
    }
    if len(drafts) < MIN_DRAFTS:
        return result
    notes = result["notes"]
    if ratio is not None and len(edited) >= MIN_DRAFTS and ratio < 0.8:
        result["suggested_max_length"] = int(statistics.median(len(d.sent) for d in edited) * 1.1)
        notes.append(
            f"Reviewers shorten these drafts to about {ratio:.0%} of their length: stay under "
            f"{result['suggested_max_length']} characters."
        )
    elif ratio is not None and len(edited) >= MIN_DRAFTS and ratio > 1.25:
        notes.append(f"Reviewers lengthen these drafts by about {ratio - 1:.0%}: give the full answer and next step.")
    if wrong and len(wrong) >= max(2, 0.1 * len(drafts)):
        notes.append(f"Write in the customer's language ({language}): {len(wrong)} earlier drafts were not.")
    if result["removed_phrases"]:
        notes.append("Reviewers remove: " + "; ".join(f'"{p}"' for p in result["removed_phrases"]) + ".")
    if result["added_phrases"]:
        notes.append("Reviewers add: " + "; ".join(f'"{p}"' for p in result["added_phrases"]) + ".")
    exclaimed = [d for d in edited if d.drafted.count("!") > d.sent.count("!")]
    if len(exclaimed) >= max(2, PHRASE_SHARE * len(edited)) and edited:
        notes.append("Use a calmer tone: reviewers take out exclamation marks.")
    reasons = Counter(d.reason.strip() for d in rejected if d.reason.strip())
    if reasons:
        notes.append("Drafts were rejected for: " + "; ".join(r for r, _ in reasons.most_common(3)) + ".")
    return result
