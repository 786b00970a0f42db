"""The opt-out rules by family of wording, in the four languages, and the wording they must leave alone."""

import pytest

from inbox.safety import check
from inbox.text import new_text


def _check(text: str):
    return check(new_text(text))


@pytest.mark.parametrize(
    "text",
    [
        # remove / take off / lose / forget + number, me, list
        "Could you take my number off? thanks",
        "pls lose this number",
        "forget my email, I'm not a customer",
        "how do I get off your list?",
        "get me off this list",
        "I want out of the mailing list",
        # no more / don't want + texts, messages, e-mails
        "I don't want your emails anymore",
        "no longer wish to receive these newsletters",
        "please don't send me any more offers",
        "I'm all set on the texts, thank you",
        "stop all the promo emails",
        "cancel my newsletter subscription",
        # opt out / unsubscribe, typos, the keyword with insistence
        "I'd like to unsubscribe please",
        "unsuscribe",
        "opt-out",
        "STOP please, 3rd time",
        "stop stop stop",
        "I've said it twice already, STOP!",
        "Don’t text me again",  # typographic apostrophe
        # French
        "désincrivez moi",
        "oubliez mon adresse mail",
        "merci de m'enlever de votre liste",
        "je veux plus recevoir vos sms",
        "ne m'envoyez plus de pubs",
        "merci de ne plus m'écrire",
        "plus besoin de la newsletter merci",
        "comment faire pour ne plus recevoir vos offres ?",
        # Spanish
        "ya no me escriban",
        "olviden mi correo por favor",
        "bórrenme de su lista",
        "no quiero más promociones",
        "cómo puedo dejar de recibir estos correos",
        "desuscribirse",
        "paren los mensajes ya",
        # Haitian Creole
        "bliye nimewo mwen",
        "wete non m nan lis la",
        "pou m pa resevwa mesaj nou yo anko, kisa pou m fe?",
        "kanpe ekri m",
        "m pa bezwen imel sa yo ankò",
        "dezabone m tanpri",
    ],
)
def test_opt_out_families_are_read_as_opt_outs(text):
    assert _check(text).unsubscribe


@pytest.mark.parametrize(
    "text",
    [
        "can I stop by after work to pick it up?",
        "my order stopped tracking yesterday",
        "does the subscription renew every month?",
        "how do I cancel my order from this morning?",
        "how much to take off the old paint and repaint?",
        "I stopped receiving the delivery updates, can you check?",
        "STOP it, these prices are unreal, I'll take three",
        "change my number to 3344 1122 please",
        "please take my details and call me back",
        "don't forget my name on the cake",
        "no olviden mi número en el pedido",
        "pa bliye nimewo m lè w rive",
        "est-ce que je peux passer demain ?",
        "combien pour enlever l'ancien parquet ?",
        "¿a qué hora cierran?",
        "cuánto por quitar la pintura vieja?",
        "ki lè nou fèmen?",
        "yo pa voye m kòmand mwen an toujou",
        "konbyen pou retire vye penti a?",
        # our own footers, quoted in a reply
        "How much for two?\n\nReply STOP to unsubscribe",
        "Ki pri?\n\nReponn STOP pou w pa resevwa mesaj ankò.",
    ],
)
def test_wording_that_is_not_an_opt_out_is_left_alone(text):
    result = _check(text)
    assert not result.unsubscribe and not result.keep_subscribed


@pytest.mark.parametrize(
    "text",
    [
        "please don't stop the weekend deals!",
        "I'm not asking you to stop emailing, I'm asking for my refund",
        "I unsubscribed by accident, please add me back",
        "Please resubscribe me",
        "surtout n'arrêtez pas les promos",
        "je me suis désinscrite par erreur, réinscrivez-moi svp",
        "no dejen de mandar las ofertas",
        "me di de baja por error, vuelvan a agregarme",
        "tanpri pa sispann voye pwomosyon yo",
        "m dezabone pa ere, remete m nan lis la",
    ],
)
def test_wording_that_keeps_the_subscription_is_not_an_opt_out(text):
    result = _check(text)
    assert not result.unsubscribe and result.keep_subscribed


def test_a_keep_sentence_does_not_hide_an_opt_out_elsewhere():
    assert _check(
        "Don't stop the coupons. But stop texting me at 6am, remove this number from the SMS list"
    ).unsubscribe
    assert _check("You added me by mistake. Please unsubscribe me.").unsubscribe
