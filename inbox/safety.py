"""High-recall rules that run after any classifier: opt-outs and legal threats.

A missed opt-out is a legal breach and a missed legal threat reaches a customer unanswered,
so these two decisions do not rest on the statistical model alone. The patterns read the
customer's new words only (quoted history is cut before), accent-folded and lower-cased, in
English, French, Spanish and Haitian Creole. Our own footers ("reply STOP to unsubscribe")
are removed first so that a pasted footer is not taken as a request.
"""

import re
from dataclasses import dataclass

from inbox.text import fold

# Measured share of rule hits that are real opt-outs on the training set; used as the intent
# confidence when the rule overrides the model (`manage.py train_classifier` prints it).
UNSUBSCRIBE_PRECISION = 0.97

_FOOTER = re.compile(
    r"(reply|text|send|envoyez|repondez|repondre|responda|responde|reponn) (stop|baja|arret|non)\b[^.\n]*"
    r"|(to|pour|para|pou) (vous |se |w )?(unsubscribe|desabonner|desinscrire|darse de baja|dezabone)[^.\n]*"
    r"|(click here|cliquez ici|haga clic aqui|klike la a) (to|pour|para|pou) [^.\n]*"
    r"|unsubscribe (here|link|from this list)|se desabonner ici|darse de baja aqui"
)
_POLITE = r"(please|pls|plz|svp|stp|por favor|porfa|xfa|tanpri|souple|now|merci|thanks|thank you|gracias|mesi)"
_ONLY_KEYWORD = re.compile(
    rf"^({_POLITE} )*(stop|stop all|stopall|stop sms|stop pub|unsubscribe|unsub|cancel|end|quit|opt ?out|"
    r"arret|arrete|arretez|desabonner|desinscrire|desinscription|desabonnement|baja|darme de baja|dar de baja|"
    rf"cancelar|alto|basta|dezabone|sispann)( {_POLITE})*$"
)
_UNSUBSCRIBE = re.compile(
    # English
    r"\bunsub(scribe)?\b|\bopt(ing)? (me )?out\b|\bremove (me|my (e ?mail|number|address|name|details|contact))\b"
    r"|\btake me off\b|\boff (your|the|ur) (mailing |email |sms |contact )?list\b"
    r"|\b(stop|quit|cease) (sending|texting|emailing|e mailing|messaging|contacting|spamming|calling|writing to) me\b"
    r"|\b(stop|quit) (sending|texting|emailing) (these|those|this|your|all)\b"
    r"|\b(don'?t|do not|never) (text|email|e mail|message|contact|write to|call|sms|dm) me (again|anymore|any more|ever)"
    r"|\bno more (e ?mails|messages|texts|sms|newsletters?|promos?|promotions|marketing)\b"
    r"|\b(delete|erase) my (number|e ?mail|data|details|contact)\b"
    r"|\b(remove|delete|take|erase|drop|off)\b[^.?!]{0,40}\bfrom (your|the|ur|all your) (mailing |email |contact |sms )?"
    r"(list|lists|database)\b"
    # French
    r"|\bdesabonn|\bdesinscri|\bne (plus|pas) m'?(envoyer|ecrire|contacter|appeler)"
    r"|\bne m'?(ecrivez|envoyez|contactez|appelez|ecris|envoie) plus\b|\barret(ez|e|er) de m'?(envoyer|ecrire|contacter|spammer)"
    r"|\b(retirez|supprimez|enlevez|effacez)[- ]moi\b|\b(retirer|supprimer|enlever|effacer) (mon|mes|ma) "
    r"(adresse|numero|e ?mail|mail|coordonnees|donnees)\b|\bne (veux|souhaite) plus recevoir\b"
    r"|\bplus de (messages|mails|e ?mails|sms|pubs?|newsletters?)\b|\bstop pub\b"
    # Spanish
    r"|\bdar(me|se)? de baja\b|\bno (me )?(envien|manden|escriban|contacten|llamen|envies|mandes|escribas) mas\b"
    r"|\bdej(en|a|ar) de (enviar|mandar|escribir|contactar|llamar)(me)?\b"
    r"|\b(eliminen|borren|saquen|quiten|eliminar|borrar|sacar|quitar)(me)? de (la|su|sus|tu|vuestra) (lista|base)"
    r"|\b(eliminen|borren) mi (numero|correo|email)\b|\bno quiero recibir\b"
    r"|\bno mas (mensajes|correos|sms|e ?mails|boletines|promociones)\b|\bcancelar (la |mi )?suscripcion\b"
    # Haitian Creole
    r"|\bpa voye (m|mwen|ban m|ban mwen)\b.{0,30}\banko\b|\bsispann (voye|ekri|rele|spam)"
    r"|\bretire (m|mwen|non m|non mwen|nimewo m|nimewo mwen|adres mwen|imel mwen)\b|\bdezabon"
    r"|\bpa vle resevwa\b|\bpa (ekri|rele|kontakte) (m|mwen) anko\b|\befase (nimewo|non|adres|imel) (m|mwen)\b"
    r"|\bpa gen mesaj anko\b"
)
_LEGAL = re.compile(
    # English
    r"\b(lawyers?|attorneys?|solicitors?|sue|suing|sued|lawsuit|legal action|legal proceedings|small claims"
    r"|chargeback|charge back|consumer protection|better business bureau|bbb|ftc|regulators?|fraud)\b"
    r"|\bdispute (the|this|my|your)? ?(charge|payment|transaction)|\breport(ing)? (you|this|your company) to\b"
    r"|\b(to|in|into|before|the) courts?\b|\b(complaint|dispute) with (my|the) bank\b"  # "court" alone is also French for "short"
    # French
    r"|\b(avocats?|tribunal|tribunaux|justice|poursuites?|mise en demeure|proces|litige|huissier|dgccrf|juridique"
    r"|prud'?hommes)\b|\b(porte|porter|porterai|depose|deposer|deposerai) (une )?plainte\b|\b(faire|fais|ferai) opposition\b"
    r"|\bopposition (bancaire|sur (le|mon|ce) paiement)|\bcontester (le|ce|mon) (prelevement|paiement|debit)\b"
    # Spanish
    r"|\b(abogad[oa]s?|demanda|demandar|demandare|denunci\w*|juzgado|tribunales|profeco|pro ?consumidor"
    r"|contracargo)\b|\bacci(o|on)(es)? legal(es)?\b|\bproteccion al consumidor\b"
    r"|\b(desconoc(er|o|ere)|disputar|disputo|reclamar) (el|este|ese) (cargo|cobro|pago)\b"
    # Haitian Creole
    r"|\b(avoka|lajistis|tribinal|jij|pwose|lapolis)\b|\bpote plent\b|\bbloke peman\b"
)


@dataclass(frozen=True)
class SafetyChecks:
    unsubscribe: bool
    legal_risk: bool


def check(new_words: str) -> SafetyChecks:
    """Rules over the customer's new words (already cut from quoted history)."""
    folded = fold(new_words)
    cleaned = _FOOTER.sub(" ", folded)
    bare = " ".join(re.sub(r"[^\w' ]+", " ", cleaned).split()).strip()
    unsubscribe = bool(_ONLY_KEYWORD.match(bare) or _UNSUBSCRIBE.search(cleaned))
    return SafetyChecks(unsubscribe=unsubscribe, legal_risk=bool(_LEGAL.search(cleaned)))
