"""Builds the labelled inbound-message set and its fixed train/test split (deterministic).

Base messages are hand-written per intent in English, French, Spanish and Haitian Creole;
each is kept as written and also varied the way real inbound mail looks (typos, emoji, quoted
history, shouting). The split is by *base message*: every variant of a test message stays in
the test set, so the local classifier is scored on wording it never saw.

    .venv/bin/python inbox/data/build_dataset.py   # rewrites train.jsonl, test.jsonl, labelled_messages.jsonl
"""

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHANNELS = ["email", "whatsapp", "sms", "instagram", "facebook", "linkedin", "x"]
DEFAULT_SENTIMENT = {"complaint": "negative", "positive_feedback": "positive", "spam": "neutral"}

# intent -> lines; a trailing "|negative"/"|positive"/"|neutral" overrides the default sentiment.
BASE: dict[str, list[str]] = {
    "question": [
        "Hi, do you ship to Canada?",
        "What are your opening hours on Saturday?",
        "Is the blue version still available in size M?",
        "Can I pick up my order at the store instead of delivery?",
        "How long does delivery usually take to Miami?",
        "Does the kit come with batteries or do I need to buy them?",
        "Where can I find the user manual for the blender?",
        "Do you have a physical shop in Port-au-Prince?",
        "Is this product suitable for children under 5?",
        "Can I change the delivery address after ordering?",
        "What payment methods do you accept? MonCash?",
        "Quick question: is the warranty international?",
        "Bonjour, est-ce que vous livrez en Martinique ?",
        "Quels sont vos horaires d'ouverture le dimanche ?",
        "Est-ce que le produit existe en noir ?",
        "Comment je peux suivre mon colis ?",
        "Hola, ¿hacen envíos a Santo Domingo?",
        "¿Dónde puedo encontrar las instrucciones de uso?",
        "¿El producto viene con garantía?",
        "¿Puedo recoger el pedido en la tienda?",
        "Bonjou, eske nou voye nan Okap?",
        "Ki lè magazen an louvri samdi?",
        "Eske pwodwi sa a bon pou timoun?",
        "Kote mwen ka jwenn enstriksyon yo?",
    ],
    "purchase_intent": [
        "I'd like to order 3 of the solar lamps, how do I proceed?",
        "I want to buy the premium pack, can you send me the link?",
        "Ready to place an order for 50 units for my shop",
        "Count me in, I'll take two of them",
        "Please reserve one for me, I will pay tomorrow",
        "How do I buy this? I want it for my mother's birthday",
        "I'm interested in purchasing the annual plan for my team",
        "Sign me up, I want to start this week",
        "Add me to the order list for the next batch please",
        "I would like to buy the red one, send me the payment details",
        "Je voudrais commander deux lampes solaires",
        "Je suis intéressé, je veux acheter le pack complet",
        "Réservez-moi un exemplaire s'il vous plaît, je paie demain",
        "Quiero comprar el paquete premium, ¿cómo pago?",
        "Me interesa, quiero hacer un pedido de 10 unidades",
        "Apártame uno por favor, lo compro esta semana",
        "Mwen vle achte de lanp solè, kijan pou m peye?",
        "Mete youn sou kote pou mwen, m ap peye demen",
        "Mwen enterese, mwen vle kòmande pake a",
        "I'll take it! where do I pay?",
    ],
    "pricing": [
        "How much does the premium plan cost per month?",
        "What's the price for 100 units? Any bulk discount?",
        "Can you send me your price list?",
        "Is there a discount for NGOs or schools?",
        "How much is shipping to Jacmel?",
        "Your competitor is cheaper, can you match their price?",
        "What does the annual subscription cost compared to monthly?",
        "Are taxes included in the price shown?",
        "Do you have a cheaper option than the pro version?",
        "price?",
        "Combien coûte l'abonnement annuel ?",
        "Quel est le prix pour 20 pièces ? Vous faites des remises ?",
        "Pouvez-vous m'envoyer vos tarifs ?",
        "¿Cuánto cuesta el plan mensual?",
        "¿Tienen descuento por volumen?",
        "¿Cuál es el precio del envío?",
        "Konbyen lanp solè a koute?",
        "Ki pri pou 10 moso? Nou fè rabè?",
        "Konbyen kòb livrezon an ye pou Jakmèl?",
        "how much for the big one",
    ],
    "meeting_request": [
        "Could we schedule a call next week to discuss a partnership?",
        "Are you available for a quick demo on Thursday afternoon?",
        "I'd love to meet in person when you are in Port-au-Prince",
        "Can we set up a 30 minute meeting with your sales team?",
        "Please send me a calendar invite for Monday 10am",
        "Let's hop on a Zoom call to go through the proposal",
        "When would be a good time to talk by phone?",
        "Can I book an appointment to see the products at your office?",
        "Would Tuesday at 3pm work for a demo?",
        "Pouvons-nous organiser un rendez-vous la semaine prochaine ?",
        "Seriez-vous disponible pour un appel jeudi ?",
        "Envoyez-moi une invitation pour une démo lundi",
        "¿Podemos agendar una reunión el martes?",
        "¿Tienen tiempo para una llamada esta semana?",
        "Me gustaría una demostración en persona",
        "Eske nou ka fè yon randevou semèn pwochèn?",
        "Mwen ta renmen pale ak nou nan telefòn jedi",
        "Ann fè yon reyinyon sou Zoom lendi",
        "free for a call tmrw?",
        "Book me in for a demo whenever suits you",
    ],
    "support_issue": [
        "My order #4521 hasn't arrived yet, can you check?",
        "The app keeps crashing when I try to log in",
        "I can't reset my password, the link doesn't work",
        "The lamp stopped charging after two days",
        "I was charged twice for the same order",
        "The tracking number you sent doesn't work",
        "I received the wrong size, how do I exchange it?",
        "The device won't turn on even after charging overnight",
        "Error 500 when I try to pay on your website",
        "My account is locked, please help",
        "Ma commande n'est toujours pas arrivée",
        "Je n'arrive pas à me connecter à mon compte",
        "La lampe ne s'allume plus, que dois-je faire ?",
        "Mi pedido no ha llegado todavía",
        "No puedo iniciar sesión en la aplicación",
        "El cargador no funciona, ¿qué hago?",
        "Kòmand mwen an poko rive",
        "Mwen pa ka konekte nan kont mwen",
        "Lanp lan pa limen ankò, kisa pou m fè?",
        "password reset email never came",
    ],
    "complaint": [
        "This is unacceptable, I've been waiting three weeks for my refund",
        "Worst customer service ever, nobody answers my emails",
        "The product broke after one day, it's a total scam",
        "I'm very disappointed, the quality is terrible",
        "Your delivery guy was rude and threw the package",
        "I want to speak to a manager, this is ridiculous",
        "You charged me for something I never ordered, I'm furious",
        "I'm going to report you to consumer protection if this isn't fixed",
        "Third time I complain and still nothing. Pathetic.",
        "Absolutely awful experience, never buying again",
        "C'est inadmissible, j'attends mon remboursement depuis un mois",
        "Service client nul, personne ne répond",
        "Très déçu, le produit est de mauvaise qualité",
        "Es inaceptable, llevo semanas esperando mi reembolso",
        "Pésimo servicio, nadie contesta",
        "Estoy muy decepcionado con la calidad",
        "Sa pa bon ditou, sa fè twa semèn m ap tann lajan m",
        "Sèvis kliyan an pa vo anyen, pèsonn pa reponn",
        "Mwen fache anpil, pwodwi a kraze apre yon jou",
        "I will contact my lawyer about this fraud",
    ],
    "unsubscribe_request": [
        "Please remove me from your mailing list",
        "STOP",
        "Unsubscribe",
        "Stop sending me these messages",
        "I don't want to receive any more emails from you",
        "Take me off your list please",
        "Do not contact me again",
        "opt out",
        "Please stop texting me, I never signed up",
        "Remove my number from your database",
        "Désabonnez-moi s'il vous plaît",
        "Arrêtez de m'envoyer des messages",
        "Je ne veux plus recevoir vos emails",
        "Por favor, elimínenme de su lista",
        "Dejen de enviarme mensajes",
        "No quiero recibir más correos",
        "Tanpri retire m nan lis la",
        "Sispann voye mesaj ban mwen",
        "Mwen pa vle resevwa imel nou ankò",
        "unsub pls",
    ],
    "out_of_office": [
        "I am out of the office until Monday with limited access to email",
        "Automatic reply: I'm on vacation until 15 August",
        "Thank you for your email. I am currently on leave and will respond when I return",
        "Out of office: back on 3 January. For urgent matters contact my colleague",
        "I'm travelling this week and will reply on my return",
        "Auto-reply: I am away on maternity leave",
        "This mailbox is not monitored during the holidays, I'll be back on the 5th",
        "Currently out of the office with no access to email",
        "Absent du bureau jusqu'au 12 mars, je vous répondrai à mon retour",
        "Réponse automatique : je suis en congés",
        "Je suis actuellement absent et n'ai pas accès à mes emails",
        "Respuesta automática: estoy de vacaciones hasta el lunes",
        "Estoy fuera de la oficina sin acceso al correo",
        "Fuera de la oficina hasta el 20 de julio",
        "Repons otomatik: mwen an vakans jiska lendi",
        "Mwen pa nan biwo a semèn sa a, m ap reponn lè m tounen",
        "Mwen an konje, m ap tounen 5 janvye",
        "OOO until next week",
        "Automatic reply: I am attending a conference and will respond on Friday",
        "Away from my desk until the 2nd, thanks for your patience",
    ],
    "spam": [
        "Congratulations! You have won a $1000 gift card, click here to claim",
        "Earn $5000 a week working from home, no experience needed",
        "Cheap followers and likes, 10k for $5, DM me",
        "Your account will be suspended, verify your password at this link",
        "Hot singles in your area want to meet you",
        "Invest in crypto now and double your money in 24 hours",
        "We offer SEO services to rank your website #1 on Google",
        "Buy cheap meds online without prescription",
        "You are selected for a lottery prize, send your bank details",
        "Promote your page to millions of users, check my bio",
        "Félicitations, vous avez gagné un iPhone, cliquez ici",
        "Gagnez de l'argent facilement depuis chez vous",
        "Felicidades, ganaste un premio, haz clic aquí",
        "Gana dinero rápido desde casa sin experiencia",
        "Ou genyen yon gwo lotri, voye nimewo kont labank ou",
        "Fè lajan fasil lakay ou, klike la a",
        "💰💰 crypto signals group join now 💰💰",
        "Increase your sales with our bulk email list of 1M leads",
        "Dear friend, I am a prince and need your help to transfer funds",
        "Get verified badge today, limited offer, click link",
    ],
    "positive_feedback": [
        "Thank you so much, the lamp works perfectly!",
        "Great service, my order arrived a day early",
        "I love the product, my whole family uses it",
        "Just wanted to say your team was super helpful",
        "Amazing quality, I'll recommend you to my friends",
        "Thanks for the quick reply, problem solved!",
        "Excellent experience from start to finish",
        "Best purchase I made this year, thank you",
        "Merci beaucoup, le produit est parfait",
        "Super service, livraison rapide, merci !",
        "J'adore, toute la famille est contente",
        "Muchas gracias, el producto es excelente",
        "Excelente servicio, llegó muy rápido",
        "Me encanta, lo recomendaré a mis amigos",
        "Mèsi anpil, lanp lan mache byen",
        "Bon sèvis, kòmand lan rive vit",
        "Mwen renmen pwodwi a anpil, mèsi",
        "you guys rock 🙌",
        "Thanks a lot, really appreciated",
        "Five stars, will order again",
    ],
    "other": [
        "Who is this?",
        "ok",
        "I think you sent this to the wrong person",
        "Are you hiring? I'd like to send my CV",
        "I'm a journalist writing about local businesses, can I quote you?",
        "Happy new year to the whole team",
        "My colleague Paul handles this now, I've forwarded your message",
        "Sorry, I don't understand this message",
        "Can you follow us back on Instagram?",
        "Is this an automated account?",
        "Qui êtes-vous ?",
        "Je crois que vous vous êtes trompé de personne",
        "Bonne année à toute l'équipe",
        "¿Quién es?",
        "Creo que se equivocaron de número",
        "Feliz año nuevo a todos",
        "Kiyès ou ye?",
        "M panse nou voye sa bay move moun",
        "Bòn ane a tout ekip la",
        "lol",
    ],
}

TYPOS = {
    "the": "teh",
    "you": "u",
    "please": "pls",
    "your": "ur",
    "thanks": "thx",
    "order": "oder",
    "available": "availble",
    "receive": "recieve",
    "tomorrow": "tmrw",
    "because": "bc",
    "vous": "vs",
    "pour": "pr",
    "que": "ke",
    "por": "x",
    "que ": "q ",
    "mwen": "m",
}
EMOJI = ["🙏", "😡", "😊", "👍", "🤔", "❤️", "😂", "🔥", "😤", "🙂"]
QUOTED = [
    "\n\nOn Mon, 3 Nov 2026 at 09:12, Madan Sara <hello@madansara.local> wrote:\n> Discover our new solar lamps, 20% off this week only!\n> Reply to this message to learn more.",
    "\n\nLe lun. 3 nov. 2026 à 09:12, Madan Sara a écrit :\n> Découvrez nos nouvelles lampes solaires !\n> Répondez à ce message.",
    "\n\n-----Original Message-----\nFrom: Madan Sara\nSubject: Our new offer\n> Big discounts on our premium pack.",
    "\n\nEl lun, 3 nov 2026, Madan Sara escribió:\n> Nuevas lámparas solares con 20% de descuento.",
]


def _typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        low = word.lower()
        if low in TYPOS and rng.random() < 0.8:
            words[i] = TYPOS[low]
        elif len(word) > 5 and rng.random() < 0.15:
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _variants(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """(variant text, what changed) for one base message."""
    kind = rng.choice(["typos", "emoji", "quoted", "lower", "typos_emoji"])
    if kind == "typos":
        varied = _typos(text, rng)
    elif kind == "emoji":
        varied = f"{text} {rng.choice(EMOJI)}"
    elif kind == "quoted":
        varied = text + rng.choice(QUOTED)
    elif kind == "lower":
        varied = text.lower().rstrip("?.!") if rng.random() < 0.5 else text.upper()
    else:
        varied = f"{_typos(text, rng)} {rng.choice(EMOJI)}{rng.choice(EMOJI)}"
    return [(text, "as_written"), (varied, kind)]


def _language(index: int, text: str) -> str:
    # Base lists are written in blocks: EN first, then FR, ES, HT; detect from the words.
    lowered = text.lower()
    if (
        any(w in lowered for w in ("mwen", "nou ", "konbyen", "tanpri", "mèsi", "kòmand", "pa ", "ki "))
        and not any(w in lowered for w in (" the ", "vous", "¿"))
        and any(w in lowered for w in ("mwen", "konbyen", "tanpri", "mèsi", "kòmand", "lanp", "ou ", "m ", "nan"))
    ):
        return "ht"
    if "¿" in lowered or any(w in lowered for w in ("gracias", "quiero", "pedido", "dejen", "por favor", "llamada")):
        return "es"
    if any(
        w in lowered for w in ("vous", "je ", "merci", "est-ce", "quel", "bonjour", "désabonnez", "arrêtez", "c'est")
    ):
        return "fr"
    return "en"


def build() -> tuple[list[dict], list[dict]]:
    rng = random.Random(20261125)
    train, test = [], []
    for intent, lines in BASE.items():
        for index, line in enumerate(lines):
            text, _, sentiment = line.partition("|")
            sentiment = sentiment or DEFAULT_SENTIMENT.get(intent, "neutral")
            target = test if index % 4 == 3 else train  # every 4th base message is held out
            for variant, change in _variants(text, rng):
                target.append(
                    {
                        "text": variant,
                        "channel": rng.choice(CHANNELS),
                        "intent": intent,
                        "sentiment": sentiment,
                        "language": _language(index, text),
                        "variant": change,
                    }
                )
    return train, test


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    train_rows, test_rows = build()
    _write(HERE / "train.jsonl", train_rows)
    _write(HERE / "test.jsonl", test_rows)
    _write(HERE / "labelled_messages.jsonl", train_rows + test_rows)
    print(f"train={len(train_rows)} test={len(test_rows)}")
