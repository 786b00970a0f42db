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
    r"|(^|[.!?>:] ?)(to|pour|para|pou) (vous |se |w )?(unsubscribe|desabonner|desinscrire|darse de baja|dezabone)[^.\n]*"
    r"|(click here|cliquez ici|haga clic aqui|klike la a) (to|pour|para|pou) [^.\n]*"
    r"|unsubscribe (here|link|from this list)|se desabonner ici|darse de baja aqui"
)
_POLITE = r"(please|pls|plz|svp|stp|por favor|porfa|xfa|tanpri|souple|now|merci|thanks|thank you|gracias|mesi)"
_ONLY_KEYWORD = re.compile(
    rf"^({_POLITE} )*(stop|stop all|stopall|stop sms|stop pub|unsubscribe|unsub|cancel|end|quit|opt ?out|"
    r"arret|arrete|arretez|desabonner|desinscrire|desinscription|desabonnement|baja|darme de baja|dar de baja|"
    rf"cancelar|alto|basta|dezabone|sispann)( {_POLITE})*$"
)
_STOP_WORD = r"(stop|arret|arrete|arretez|baja|alto|basta|paren|sispann|unsubscribe|unsub|desabonner)"
# "STOP please, third time", "stop stop stop": the keyword first, then insistence
_STOP_FIRST = re.compile(
    rf"^{_STOP_WORD}( {_STOP_WORD})*( {_POLITE}| (already|deja|ya|now|c'?est|this is|anko|man|again)\b)"
    rf"|^{_STOP_WORD}( {_STOP_WORD})+$"
)
# "… I've asked three times, STOP!": the keyword shouted on its own at the end
_STOP_LAST = re.compile(r"[,.!:;] ?(stop|arret|baja|basta|sispann|unsubscribe)( ?[!.])*$")
_MESSAGES = (
    r"(texts?|messages?|msgs?|mensajes?|msjs?|e ?mails?|mails?|sms|newsletters?|promos?|promotions?|offers|deals"
    r"|marketing|ads|notifications?|alerts?|reminders?|rappels?|recordatorios?|rapel|courriels?|pubs?|publicites?"
    r"|envois|relances|correos?|boletin(es)?|promociones|publicidad|notificaciones|mesaj|imel|teks|tex|piblisite"
    r"|pwomosyon|notifikasyon)"
)
_CONTACT = r"(number|numbers|phone|e ?mail|email address|address|name|details|contact|contacts|info|data)"
_UNSUBSCRIBE = re.compile(
    # English: unsubscribe / opt out, with their common typos
    r"\bun ?su(b|bs|s|sc|cs)\w*r?i?b|\bunsub\b|\bunscrib|\bopt(ing|ed)? ?(me |us )?out\b|\boptout\b"
    r"|\bremove (me|my (e ?mail|number|address|name|details|contact))\b|\bopt (this|my) (number|e ?mail|address) out\b"
    # take / get / keep me off (a list), "how do I get off this list", "I want out of the newsletter"
    r"|\b(take|get|keep|drop|strike|cross|scratch) (me|us|my name|my number|this number|my e ?mail|this e ?mail"
    r"|this address) (off|out of|from)\b|\b(get|getting|be|being|come) (taken )?off (this|your|the|ur|these|that"
    r"|all|all your|all of your|every) (\w+ )?lists?\b|\bwant out of\b"
    r"|\boff (your|the|ur|this|these|that|all your|all) (mailing |email |e mail |sms |text |contact |marketing )?list"
    # remove / take off / lose / forget / delete + this or my number, address or e-mail
    r"|(?<!n't )(?<!not )\b(remove|delete|erase|lose|forget|scratch|wipe) (this|my|that) (phone )?"
    rf"{_CONTACT}\b|\btake (this|my|that) (phone )?(number|e ?mail|address|name) off\b"
    r"|\b(stop|quit|cease) (sending|texting|emailing|e mailing|messaging|contacting|spamming|calling|writing to|dming"
    r"|bugging|bothering|pestering|hitting) (me|us|this number|this address|this phone)\b"
    r"|\b(stop|quit|cease|end|halt|cancel) (sending |with )?(all |the |these |those |this |your |ur |any |all of your |all the )*"
    rf"(\w+ )?{_MESSAGES}\b"
    r"|\b(stop|quit) (sending|texting|emailing) (these|those|this|your|all)\b"
    r"|\b(don'?t|do not|never|dont) (ever )?(text|email|e mail|message|contact|write to|call|sms|dm|spam) (me|this number"
    r"|this address|us)\b|\b(don'?t|do not|dont|never) (ever )?send (me|us|this number|this address) (any ?more|again"
    r"|anything|these|those|your|any|no more|more)\b"
    rf"|\b(cancel|end) (my |the |your |this )?(\w+ )?{_MESSAGES}( subscription)?\b|\bcancel (my |the )?subscription to (the |your )?"
    rf"(\w+ )?{_MESSAGES}"
    rf"|\bno more {_MESSAGES}\b|\b(enough|done) (with )?(the |your |these |all the |all these )?{_MESSAGES}\b"
    # "I'm good on these texts", "I'm all set with the emails"
    rf"|\b(i'?m|im|i am) (good|ok|okay|fine|all set|set|done) (on|with|for) (the |these |those |your |ur |all )?{_MESSAGES}"
    # "I don't want these messages anymore", "I no longer wish to get your e-mails"
    r"|\b(don'?t|do not|dont|no longer|never) (want|need|wish|care) (to (get|receive|see) )?(any more |anymore |these "
    rf"|those |your |ur |any |the |such |more |further )+(\w+ )?{_MESSAGES}\b"
    r"|\b(don'?t|do not|dont|no longer) (want|wish|need) to (get|receive|be contacted|hear from you|be on)\b"
    r"|\b(how (do|can|could) (i|we)|i (want|would like|wish|need) to|i'?d like to|help me|let me|please let me) (stop|quit)"
    r" (getting|receiving)\b"
    r"|\b(delete|erase) my (number|e ?mail|data|details|contact)\b"
    r"|\b(remove|delete|take|erase|drop|off)\b([^.?!]|\.(?=\S)){0,40}\bfrom (your|the|ur|all your|this|these|all) "
    r"(mailing |email |contact |sms |text |marketing |distribution )?(list|lists|database|newsletter|contacts)\b"
    r"|\bleave me alone\b"
    # French: se desabonner / desinscrire with typos; retirer, enlever, oublier, rayer + moi or my details
    r"|\bdes?abon+|\bdes(in|i|ins|n)cri|\bne (plus|pas) (m'|me |nous )?(envoyer|ecrire|contacter|appeler|inscrire)"
    r"|\bne (m'|me |nous )?(ecrivez|envoyez|contactez|appelez|ecris|envoie|spammez|relancez) plus\b"
    r"|\barret(ez|e|er) (de |d')(m'|me |nous )?(envoyer|ecrire|contacter|spammer|appeler|harceler|relancer)"
    rf"|\b(stop|arret(ez|e|er)?) (les|vos|ces|tes|tous les|toutes les) (\w+ )?{_MESSAGES}"
    rf"|\barret(ez|e|er) (les|vos|ces|tous ces|toutes ces|tous vos|toutes vos) (\w+ )?{_MESSAGES}"
    r"|\b(retirez|supprimez|enlevez|effacez|oubliez|rayez|sortez|virez)[- ]moi\b"
    r"|\b(retirer|supprimer|enlever|effacer|oublier|rayer|oubliez|rayez|supprimez|retirez|enlevez|effacez) (mon|mes|ma"
    r"|ce|cet|cette) (adresse|numero|e ?mail|mail|coordonnees|donnees|contact|nom|telephone)\b"
    r"|\b(m'|me )(enlever|retirer|supprimer|rayer|desinscrire|sortir) (de|du|des) (votre|vos|la|les|ce|cette|ces|tous|toutes)"
    r"|\b(ne )?(veux|souhaite|voudrais|desire) plus (rien )?(recevoir|etre contacte|de vos|vos|ces|de ces)\b"
    rf"|\bplus besoin (de|des|du|d') ?(vos |ces |la |les |votre |cette |tes )?(\w+ )?{_MESSAGES}"
    rf"|\b(ne plus|plus jamais|ne jamais plus) recevoir\b|\bplus de {_MESSAGES}\b|\bstop pub\b"
    r"|\b(plus|pas) besoin de (m'?|nous )?(envoyer|ecrire|contacter|relancer)\b|\blaissez[- ]moi tranquille\b"
    # Spanish: darse de baja, desuscribir(se), no me manden mas, dejen de, olvidense de mi numero, saquenme
    r"|\bdar(me|se|nos)? de baja\b|\b(denme|dame|den) de baja\b|\bdes(u|i|in)s?cri(b|p)"
    r"|\b(no|nunca) (quiero que )?(me |nos )?(envien|manden|escriban|contacten|llamen|envies|mandes|escribas)"
    r" (mas|nada|de nuevo|otra vez|nunca)\b"
    r"|\b(quiero|quisiera|deseo|me gustaria|como (hago|puedo)( para)?) dejar de recibir\b"
    rf"|\bya no (necesito|quiero|deseo) (el |la |los |las |estos |estas |sus |tus |mas )?(\w+ )?{_MESSAGES}"
    rf"|\bpar(en|ar|a|e)(melos)? (ya )?(los|sus|tus|esos|estos|las|esas|estas|todos los) (\w+ )?{_MESSAGES}"
    r"|\b(retirar|retiren|quitar|quiten|sacar|saquen|borrar|borren|eliminar|eliminen) (esta|mi|este|el|la) "
    r"(direccion|correo|numero|email|e mail|contacto) de\b"
    r"|\bya no (me |nos )?(envien|manden|escriban|contacten|llamen|envies|mandes|escribas|lleguen|llegue)\b"
    r"|\bdej(en|a|ar|e) de (enviar|mandar|escribir|contactar|llamar|llegar|molestar)(me|nos)?\b"
    rf"|\bpar(en|a|ar|e) (ya )?(de (enviar|mandar|escribir)|con (los|sus|tus|esos|estos|tantos|las|esas|estas) {_MESSAGES})"
    r"|\b(eliminen|borren|saquen|quiten|retiren|eliminar|borrar|sacar|quitar|retirar|eliminame|borrame|sacame|quitame"
    r")(me|nos)? de (la|su|sus|tu|vuestra|esta|esa|las) (lista|base|listas|boletin)"
    r"|\bme (retiren|saquen|quiten|borren|eliminen|den de baja) de\b"
    r"|(?<!no )\b(eliminen|borren|olviden|olvidense de|olvidate de|olvida|borra|elimina|quiten|saquen|borrar|eliminar|quitar"
    r"|sacar|olvidar|olvidarse de) (mi|este|el) "
    r"(numero|correo|email|e mail|contacto|telefono)\b"
    rf"|\bno (quiero|necesito|deseo) (recibir|mas|ningun|ninguna|tus|sus|estos|esos|otro|otros|los)( \w+)? ?{_MESSAGES}"
    r"|\bno quiero recibir\b|\bno mas (mensajes|correos|sms|e ?mails|boletines|promociones)\b"
    r"|\bcancelar (la |mi )?suscripcion\b|\bdejenme en paz\b"
    # Haitian Creole: pa voye m ... anko, sispann / kanpe / rete voye, retire / wete / efase / bliye + m or my details
    r"|\bpa voye (m|mwen|ban m|ban mwen)\b.{0,30}\banko\b"
    rf"|\bpa voye (ban m |ban mwen |pou mwen |pou m )?(okenn |anyen|lot )?{_MESSAGES}? ?(ban m|ban mwen|pou mwen|sou)"
    r"|\b(sispann|kanpe|rete|ret|ase|ason) (voye|ekri|rele|spam|kontakte|deranje)"
    r"|\b(retire|wete|efase) (m|mwen|non m|non mwen|nimewo|adres|imel|kontak)\b|\bdezabon|\bdezinskri"
    r"|(?<!pa )\bbliye (nimewo|non|adres|imel)( (imel|nimewo))? (m|mwen|sa)\b|\bpa vle (nou |yo )?(kontakte|ekri|rele|voye) (m|mwen)\b"
    rf"|\b(sispann|kanpe) (tout )?{_MESSAGES}\b"
    rf"|\bpa voye (ban m |ban mwen |pou mwen )?(okenn |lot )?{_MESSAGES} anko\b"
    rf"|\banile (abonman )?(\w+ )?{_MESSAGES}\b|\bpa vle resevwa\b|\bpa (ekri|rele|kontakte|voye) (m|mwen) anko\b"
    rf"|\b(pou (m|mwen)|ta renmen|vle) pa resevwa\b.{{0,30}}\b{_MESSAGES}\b.{{0,30}}\banko\b"
    rf"|\bpa (vle|bezwen)\b.{{0,25}}\b{_MESSAGES}\b.{{0,25}}\banko\b|\bpa gen mesaj anko\b|\bkite m anpe\b"
)
# Wording that keeps the subscription: a negated stop ("don't stop sending the coupons", "I'm not asking you
# to stop") or a re-subscription ("I unsubscribed by mistake, add me back"). Sentences holding it are not read
# for opt-outs, and the model's opt-out is not taken when the rest of the message has none.
_OPTED_OUT = (
    r"(unsubscribed|unsubbed|opted out|replied stop|texted stop|desabonnee?|desinscrite?|me suis desabonn\w*"
    r"|me suis desinscrit\w*|di de baja|me desuscribi|me desinscribi|dezabone|dezabonnen)"
)
_KEEP = re.compile(
    # a negated stop said as a request, not "you don't stop texting me"
    r"(^|[,.;:!?] ?|please |pls |plz |but |just |oh |and )(don'?t|dont|do not|never) (ever )?(stop|quit|cease)\b"
    r"|\b(not asking|didn'?t ask|did not ask|not telling|didn'?t say|did not say|never said|never asked)"
    r" (you )?(to )?(stop|quit)\b"
    r"|(^|[,.;:!?] ?|svp |stp |surtout |mais |et )(ne |n')?arret(ez|e) (pas|jamais)\b"
    r"|\bne (vous |te )?(demande|dis) pas d'?arreter\b|\b(pas|jamais) dit d'?arreter\b"
    r"|(^|[,.;:!?] ?|porfa |por favor |pero |y )no (dejen|dejes|paren|pares) de\b"
    r"|\bno (les|te) (pido|digo|dije) que (dejen|paren)\b"
    r"|(^|[,.;:!?] ?|tanpri |souple |men |epi )pa (janm )?(sispann|kanpe)\b|\bpa (di|mande) (nou|ou|w|n) (sispann|kanpe)\b"
    # a re-subscription: "I unsubscribed by mistake", "add me back", "reinscrivez-moi", "remete m nan lis la"
    rf"|\b{_OPTED_OUT}\b[^.?!]{{0,40}}\b(by mistake|by accident|accidentally|mistakenly|par erreur|par megarde"
    r"|sans faire expres|sin querer|por error|por equivocacion|pa ere|pa aksidan|san fe espre)\b"
    r"|\b(accidentally|mistakenly|par erreur|sin querer|por error|pa ere)\b[^.?!]{0,10}\b" + _OPTED_OUT + r"\b"
    r"|\b(did|have) you (stop|stopped|quit)\b|\beske (nou|ou|w|yo|n) (te )?(sispann|kanpe)\b"
    r"|\b(add|put|sign|bring|take) me back\b|\bre[- ]?subscrib|\bsign me (back )?up again\b|\bre ?add me\b"
    r"|\bre[- ]?inscri|\bre[- ]?abon|\b(volver|vuelvan|vuelve) a (agregar|anadir|suscribir|inscribir|meter|poner)\b"
    r"|\b(agreguen|anadan|inscriban|suscriban|pongan)me (de nuevo|otra vez|nuevamente)\b"
    r"|\b(remete|remet|mete) (m|mwen) (tounen |anko )?nan lis\b"
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
    keep_subscribed: bool = False


def check(new_words: str) -> SafetyChecks:
    """Rules over the customer's new words (already cut from quoted history)."""
    folded = fold(new_words).replace("\u2019", "'").replace("`", "'")
    cleaned = _FOOTER.sub(" ", folded)
    bare = " ".join(re.sub(r"[^\w' ]+", " ", cleaned).split()).strip()
    kept, read = [], cleaned
    if _KEEP.search(cleaned):  # rare: only then is the message read sentence by sentence
        sentences = [part for part in re.split(r"(?<=[.?!;])\s+|\s*[!?]+\s*", cleaned) if part.strip()]
        kept = [part for part in sentences if _KEEP.search(part)]
        read = " . ".join(part for part in sentences if not _KEEP.search(part))
    read = read.replace("-", " ")
    unsubscribe = bool(
        _ONLY_KEYWORD.match(bare) or _STOP_FIRST.match(bare) or _STOP_LAST.search(read) or _UNSUBSCRIBE.search(read)
    )
    return SafetyChecks(
        unsubscribe=unsubscribe, legal_risk=bool(_LEGAL.search(cleaned)), keep_subscribed=bool(kept) and not unsubscribe
    )
