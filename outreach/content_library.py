"""The template library of the local newsletter composer: the frame of a newsletter (greeting,
transitions, link labels, sign-off) in each language we write. The content comes from the
sources a marketer supplies; only the frame comes from here. Every line is Jinja2 source using
the campaign template variables, with a fallback where a contact may lack the data."""

LANGUAGES = ("en", "fr", "es", "ht")

LIBRARY: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hi{% if contact.first_name %} {{ contact.first_name }}{% endif %},",
        "intro_one": "Here is what is new: {topic}.",
        "intro_many": "{count} updates for you this time, starting with {topic}.",
        "subject_more": "{title} and {count} more",
        "subject_named": "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}{title}",
        "read_more": "Read more",
        "cta": "See everything",
        "signoff": "Thank you for reading,",
        "more_heading": "Also new",
    },
    "fr": {
        "greeting": "Bonjour{% if contact.first_name %} {{ contact.first_name }}{% endif %},",
        "intro_one": "Voici la nouveauté : {topic}.",
        "intro_many": "{count} nouveautés pour vous cette fois, à commencer par {topic}.",
        "subject_more": "{title} et {count} autres nouveautés",
        "subject_named": "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}{title}",
        "read_more": "En savoir plus",
        "cta": "Tout découvrir",
        "signoff": "Merci de votre lecture,",
        "more_heading": "Également",
    },
    "es": {
        "greeting": "Hola{% if contact.first_name %} {{ contact.first_name }}{% endif %}:",
        "intro_one": "Esta es la novedad: {topic}.",
        "intro_many": "{count} novedades para usted esta vez, empezando por {topic}.",
        "subject_more": "{title} y {count} novedades más",
        "subject_named": "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}{title}",
        "read_more": "Leer más",
        "cta": "Verlo todo",
        "signoff": "Gracias por leernos,",
        "more_heading": "También",
    },
    "ht": {
        "greeting": "Bonjou{% if contact.first_name %} {{ contact.first_name }}{% endif %},",
        "intro_one": "Men sa ki nouvo: {topic}.",
        "intro_many": "{count} nouvèl pou ou fwa sa a, kòmanse ak {topic}.",
        "subject_more": "{title} ak {count} lòt nouvèl",
        "subject_named": "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}{title}",
        "read_more": "Li plis",
        "cta": "Wè tout",
        "signoff": "Mèsi paske ou li nou,",
        "more_heading": "Epitou",
    },
}


def frame(language: str) -> dict[str, str]:
    """The frame of `language` (a locale such as fr-CA counts as fr; unknown: English)."""
    return LIBRARY.get((language or "en").split("-")[0].split("_")[0].lower(), LIBRARY["en"])
