"""Builds the local classifier's training set from hand-written messages plus noisy variants.

Sources: `train/*.txt`, messages written by hand per intent in English, French, Spanish and
Haitian Creole (SMS shorthand, DMs, e-mails with greetings and signatures, auto-replies).
Each message is kept as written and varied the way real inboxes deliver it: SMS shorthand and
dropped accents, typos, ALL CAPS, emoji, e-mail wrapping (greeting, signature, "Sent from my
phone", legal disclaimer, quoted history of our own outreach with its unsubscribe footer),
HTML mail and forwarded mail. Every variant carries its base message's `group` so that
cross-validation keeps a message and its variants in the same fold.

The independent evaluation split (`eval/independent.jsonl`) is written separately and is never
read here. Deterministic (fixed seed):

    .venv/bin/python inbox/data/build_dataset.py   # rewrites train.jsonl
"""

import json
import random
import re
import unicodedata
from pathlib import Path

from inbox.text import detect_language

HERE = Path(__file__).resolve().parent
SOURCES = sorted((HERE / "train").glob("*.txt"))
CHANNELS = ["email", "whatsapp", "sms", "instagram", "facebook", "linkedin", "x"]
DEFAULT_SENTIMENT = {"complaint": "negative", "positive_feedback": "positive"}
SENTIMENT_MARK = {"-": "negative", "+": "positive", "0": "neutral"}
VARIANTS_PER_MESSAGE = 5
SEED = 20261204

SHORTHAND = {
    "en": {
        "you": "u",
        "your": "ur",
        "please": "pls",
        "thanks": "thx",
        "are": "r",
        "for": "4",
        "to": "2",
        "tomorrow": "tmrw",
        "because": "bc",
        "what": "wat",
        "know": "kno",
        "message": "msg",
        "messages": "msgs",
    },
    "fr": {
        "s'il vous plaît": "svp",
        "s'il vous plait": "svp",
        "c'est": "c",
        "bonjour": "bjr",
        "salut": "slt",
        "quoi": "koi",
        "pourquoi": "pq",
        "beaucoup": "bcp",
        "je suis": "chui",
        "aujourd'hui": "auj",
        "merci": "mrc",
        "vous": "vs",
        "quand": "qd",
    },
    "es": {
        "que": "q",
        "por favor": "porfa",
        "también": "tb",
        "por": "x",
        "gracias": "grax",
        "mensaje": "msj",
        "mensajes": "msjs",
        "para": "pa",
        "está": "ta",
        "hola": "ola",
    },
    "ht": {
        "mwen": "m",
        "ou": "w",
        "nou": "n",
        "kounye a": "kounya",
        "ankò": "anko",
        "mèsi": "mesi",
        "tanpri": "tanpri",
        "konbyen": "kombyen",
        "pa ": "p ",
        "kòmand": "komand",
        "bonjou": "bjou",
    },
}
GREETING = {
    "en": ["Hi,", "Hello,", "Hi team,", "Good morning,", "Dear Sir or Madam,", "Hey,"],
    "fr": ["Bonjour,", "Bonsoir,", "Madame, Monsieur,", "Salut,", "Bonjour à tous,"],
    "es": ["Hola,", "Buenos días,", "Estimados,", "Buenas tardes,", "Hola equipo,"],
    "ht": ["Bonjou,", "Bonswa,", "Bonjou ekip la,", "Alo,", "Bonjou Mesye Dam,"],
}
CLOSING = {
    "en": ["Thanks,", "Best regards,", "Regards,", "Cheers,", "Kind regards,", "Thank you,"],
    "fr": ["Cordialement,", "Merci,", "Bien à vous,", "Bonne journée,", "Salutations,"],
    "es": ["Saludos,", "Gracias,", "Atentamente,", "Un saludo,", "Saludos cordiales,"],
    "ht": ["Mèsi,", "Respè,", "Mèsi davans,", "Bòn jounen,", "Kenbe la,"],
}
NAMES = ["Marie Joseph", "Jean-Paul Étienne", "Ana López", "Wilson Pierre", "Sarah K.", "Dr. Michel Auguste", "Rose"]
TITLES = ["Directrice commerciale", "Operations Manager", "Gerente de compras", "Responsab lojistik", "CEO", ""]
COMPANIES = ["Boutik Lakay SA", "ACME Logistics LLC", "Distribuidora del Caribe", "Hôtel Le Jardin", ""]
PHONES = ["+509 3712 4455", "Tel: (305) 555-0182", "Cel. 809-555-0143", "Tél. +33 6 12 34 56 78"]
MOBILE_FOOTER = {
    "en": ["Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for Android"],
    "fr": ["Envoyé de mon iPhone", "Envoyé depuis mon appareil Galaxy", "Obtenir Outlook pour Android"],
    "es": ["Enviado desde mi iPhone", "Enviado desde mi Samsung", "Obtener Outlook para Android"],
    "ht": ["Sent from my iPhone", "Envoyé de mon iPhone", "Voye depi telefòn mwen"],
}
DISCLAIMERS = [
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are intended only for the addressee. "
    "If you have received it in error, please notify the sender and delete it.",
    "Ce message et ses pièces jointes sont confidentiels. S'il vous a été adressé par erreur, "
    "merci de le détruire et d'en avertir l'expéditeur.",
    "AVISO LEGAL: Este mensaje es confidencial y está dirigido únicamente a su destinatario.",
    "Please consider the environment before printing this e-mail.",
]
# Our own outreach, quoted under replies: its footer carries opt-out wording on purpose, so the
# model learns that quoted history is not the customer's request.
OUTREACH = {
    "en": "New solar lamps are in! 20% off this week only.\nShop now: https://madansara.example/shop\n"
    "Reply STOP to unsubscribe. To stop receiving these emails, click here.",
    "fr": "Nouveautés : lampes solaires à -20 % cette semaine !\nBoutique : https://madansara.example/shop\n"
    "Pour vous désabonner, cliquez ici. Répondez STOP pour ne plus recevoir nos SMS.",
    "es": "¡Llegaron las lámparas solares! 20 % de descuento esta semana.\n"
    "Para darse de baja, haga clic aquí. Responda BAJA para no recibir más mensajes.",
    "ht": "Nouvo lanp solè yo rive! 20 % rabè semèn sa a sèlman.\n"
    "Reponn STOP pou w pa resevwa mesaj ankò. Pou dezabòne, klike la a.",
}
QUOTE_HEADER = {
    "en": ["On Mon, Nov 3, 2026 at 9:12 AM Madan Sara <hello@madansara.example> wrote:"],
    "fr": ["Le lun. 3 nov. 2026 à 09:12, Madan Sara <hello@madansara.example> a écrit :"],
    "es": ["El lun, 3 nov 2026 a las 9:12, Madan Sara (<hello@madansara.example>) escribió:"],
    "ht": ["On Mon, Nov 3, 2026 at 9:12 AM Madan Sara <hello@madansara.example> wrote:"],
}
OUTLOOK_HEADER = (
    "________________________________\nFrom: Madan Sara <hello@madansara.example>\n"
    "Sent: Monday, November 3, 2026 9:12 AM\nTo: client@example.com\nSubject: Our new offer\n\n"
)
FORWARD_INTRO = {
    "en": ["FYI see below", "Forwarding my earlier message, still no answer.", "See below"],
    "fr": ["Je vous transfère mon message précédent.", "Voir ci-dessous", "Toujours pas de réponse :"],
    "es": ["Reenvío mi mensaje anterior.", "Ver abajo", "Sigo sin respuesta:"],
    "ht": ["Gade anba a", "M ap voye mesaj mwen te voye a ankò.", "Toujou pa gen repons:"],
}
EMOJI = ["🙏", "🙂", "👍", "📦", "🤔", "‼️", "☀️", "📱", "🙏🏾", "👀"]


def parse_source(path: Path) -> list[dict]:
    """`@intent` opens a section; each line is one message; `-|`, `+|`, `0|` set its sentiment."""
    rows, intent = [], None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            intent = line[1:].strip()
            continue
        sentiment = DEFAULT_SENTIMENT.get(intent, "neutral")
        if len(line) > 2 and line[1] == "|" and line[0] in SENTIMENT_MARK:
            sentiment, line = SENTIMENT_MARK[line[0]], line[2:]
        text = line.replace("\\n", "\n")
        rows.append({"text": text, "intent": intent, "sentiment": sentiment, "group": f"{path.stem}:{number}"})
    return rows


def _language(path: Path, text: str) -> str:
    language = path.stem.split("_")[0]
    if language in SHORTHAND:
        return language

    return detect_language(text)


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def sms_style(text: str, language: str, rng: random.Random) -> str:
    varied = text.lower()
    for long, short in SHORTHAND[language].items():
        if rng.random() < 0.7:
            varied = re.sub(rf"(?<!\w){re.escape(long)}(?!\w)", short, varied)
    if rng.random() < 0.6:
        varied = _fold_accents(varied)
    if rng.random() < 0.6:
        varied = re.sub(r"[.?!,;:¿¡]+", "", varied) if rng.random() < 0.5 else varied.rstrip(".!?")
    return " ".join(varied.split()) if "\n" not in text else varied


def typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and rng.random() < 0.2:
            j = rng.randrange(1, len(word) - 2)
            edit = rng.choice(["swap", "drop", "double"])
            if edit == "swap":
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            elif edit == "drop":
                words[i] = word[:j] + word[j + 1 :]
            else:
                words[i] = word[: j + 1] + word[j] + word[j + 1 :]
    return " ".join(words)


def signature(language: str, rng: random.Random) -> str:
    lines = [rng.choice(NAMES)]
    for part in (rng.choice(TITLES), rng.choice(COMPANIES)):
        if part and rng.random() < 0.6:
            lines.append(part)
    if rng.random() < 0.5:
        lines.append(rng.choice(PHONES))
    if rng.random() < 0.3:
        lines.insert(0, "--")
    return "\n".join(lines)


def email_wrap(text: str, language: str, rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(GREETING[language]) + "\n")
    parts.append(text + "\n")
    if rng.random() < 0.8:
        parts.append(rng.choice(CLOSING[language]) + "\n" + signature(language, rng))
    if rng.random() < 0.3:
        parts.append(rng.choice(MOBILE_FOOTER[language]))
    if rng.random() < 0.25:
        parts.append(rng.choice(DISCLAIMERS))
    if rng.random() < 0.6:
        quoted = "\n".join(f"> {line}" for line in OUTREACH[language].splitlines())
        header = rng.choice(QUOTE_HEADER[language])
        parts.append(f"{header}\n{quoted}" if rng.random() < 0.7 else OUTLOOK_HEADER + OUTREACH[language])
    return "\n\n".join(parts)


def html_wrap(text: str, language: str, rng: random.Random) -> str:
    body = "<br>".join(text.splitlines())
    sig = signature(language, rng).replace("\n", "<br>")
    quoted = OUTREACH[language].replace("\n", "<br>")
    return (
        '<html><head><style>p{margin:0}</style></head><body><div dir="ltr">'
        f'<p>{body}</p><br><div class="gmail_signature">{sig}</div>'
        f'<div class="gmail_quote"><div class="gmail_attr">{QUOTE_HEADER[language][0]}</div>'
        f"<blockquote>{quoted}</blockquote></div></div></body></html>"
    )


def forwarded(text: str, language: str, rng: random.Random) -> str:
    return (
        f"{rng.choice(FORWARD_INTRO[language])}\n\n---------- Forwarded message ---------\n"
        f"From: {rng.choice(NAMES)} <client@example.com>\nDate: Tue, Nov 4, 2026 at 8:03 AM\n"
        f"Subject: Re: my order\nTo: <hello@madansara.example>\n\n{text}"
    )


def variant(text: str, language: str, rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["sms", "sms", "typos", "caps", "emoji", "email", "email", "html", "forward", "mixed"])
    if kind == "sms":
        return sms_style(text, language, rng), kind
    if kind == "typos":
        return typos(text, rng), kind
    if kind == "caps":
        return text.upper(), kind
    if kind == "emoji":
        return f"{text} {''.join(rng.sample(EMOJI, rng.randint(1, 3)))}", kind
    if kind == "email":
        return email_wrap(text, language, rng), kind
    if kind == "html":
        return html_wrap(text, language, rng), kind
    if kind == "forward":
        return forwarded(text, language, rng), kind
    return email_wrap(typos(sms_style(text, language, rng), rng), language, rng), kind


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    for path in SOURCES:
        for base in parse_source(path):
            language = _language(path, base["text"])
            texts = [(base["text"], "as_written")]
            texts += [variant(base["text"], language, rng) for _ in range(VARIANTS_PER_MESSAGE)]
            kinds: dict[str, str] = {}
            for text, kind in texts:  # a variant identical to the message stays "as_written" (near-copy test)
                kinds.setdefault(text, kind)
            for text, kind in kinds.items():
                rows.append(
                    {
                        "text": text,
                        "channel": "email" if kind in ("email", "html", "forward") else rng.choice(CHANNELS),
                        "intent": base["intent"],
                        "sentiment": base["sentiment"],
                        "language": language,
                        "group": base["group"],
                        "variant": kind,
                    }
                )
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(HERE.parents[1]))
    train_rows = build()
    write_jsonl(HERE / "train.jsonl", train_rows)
    print(f"train={len(train_rows)} from {len(SOURCES)} sources")
