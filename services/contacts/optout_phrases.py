"""The words and phrases opt-out detection knows, per language, in folded form.

Folded form is what :func:`services.contacts.optout.fold` makes of a message:
lower case, accents and other combining marks gone, Turkish dotless i as ``i``,
Arabic alef, yeh and teh marbuta unified, every apostrophe, hyphen, emoji and
punctuation mark turned into one space. So "don't" is written ``don t``,
"arrêtez de m'envoyer" is ``arretez de m envoyer`` and "إلغاء" is ``الغاء``.
A test checks that every entry here is already folded.

``KEYWORDS_*`` are whole messages, once the ``FILLERS`` are taken out;
``PHRASES_*`` are regular expressions searched anywhere in a message. Entries
are keyed by language so that a reader fluent in one can review its own;
``"all"`` holds the few that hold in every language.
"""

# Cyrillic, Arabic and Turkish letters are the point of this file.
# ruff: noqa: RUF001

from __future__ import annotations

# The English standard keywords hold in every language. Translations of CANCEL,
# END and QUIT, and words meaning "enough" (basta, chega, yeter, хватит), are
# left out on purpose: alone they mostly answer a question about an order or a
# quantity ("basta così" is "that's all"), and a false opt-out silences a
# customer.
KEYWORDS_OUT: dict[str, str] = {
    "en": (
        "cancel|end|opt me out|opt out|optout|quit|remove me|revoke|stop|"
        "stop all|stop it|stop messages|stop messaging|stop sending|"
        "stop this|stopall|unsub|unsubscribe|unsubscribe me|quit it"
    ),
    "es": (
        "baja|cancelar suscripcion|dame de baja|darme de baja|desuscribir|"
        "desuscribirme|detener|parar"
    ),
    "pt": (
        "cancelar inscricao|descadastrar|descadastrar me|descadastre|"
        "me descadastre|parar|pare|parem|sair"
    ),
    "fr": (
        "arret|arreter|arretez|desabonnement|desabonner|desabonnez moi|"
        "desinscription|desinscrire|desinscrivez moi|me desabonner|"
        "me desinscrire"
    ),
    "de": (
        "abbestellen|abmelden|abmeldung|aufhoren|austragen|hor auf|"
        "horen sie auf|hort auf|melde mich ab|stopp"
    ),
    "it": (
        "annulla iscrizione|cancellami|cancellatemi|disiscrivetemi|"
        "disiscrivi|disiscrivimi|disiscrizione|fermatevi|fermati|smettetela|"
        "smettila"
    ),
    "nl": (
        "afmelden|afmelding|hou op|meld me af|meld mij af|stop ermee|"
        "stoppen|uitschrijven|uitschrijving"
    ),
    "tr": (
        "abonelik iptal|abonelikten cik|abonelikten cikar|durdur|mesaj istemiyorum|ret"
    ),
    "id": "berhenti|berhenti berlangganan|henti|stop langganan|unreg",
    "ru": (
        "остановите|отменить подписку|отписаться|отписка|отпишите|"
        "отпишите меня|прекратите|стоп"
    ),
    "ar": "الغاء اشتراك|الغاء الاشتراك|اوقف|اوقفوا|ايقاف|توقف|توقفوا|قف",
}

KEYWORDS_IN: dict[str, str] = {
    "en": "opt in|optin|resubscribe|resume|resume messages|start|subscribe|unstop",
    "es": "alta|darme de alta|reanudar|suscribirme",
    "pt": "inscrever|reativar|voltar a receber",
    "fr": "me reabonner|reabonner|reprendre",
    "de": "anmelden|fortsetzen|wieder anmelden",
    "it": "iscrivimi|riattiva|riattivare|riscrivimi",
    "nl": "aanmelden|hervatten|weer aanmelden",
    "tr": "basla|baslat|tekrar abone ol",
    "id": "langganan lagi|mulai|reg",
    "ru": "возобновить|подписаться|старт",
    "ar": "ابدا|استيناف|اشتراك|اشترك",
}

# Politeness, greetings and "now": they do not change what a lone keyword means.
FILLERS: dict[str, str] = {
    "en": (
        "please|pls|plz|plez|now|thanks|thank you|thx|ty|ok|okay|hi|hello|"
        "hey|just|already"
    ),
    "es": "por favor|porfa|porfavor|gracias|ya|hola",
    "pt": "por favor|pfv|pf|obrigado|obrigada|oi|ola|ja",
    "fr": "s il vous plait|s il te plait|svp|stp|merci|bonjour|salut",
    "de": "bitte|danke|jetzt|hallo|sofort",
    "it": "per favore|perfavore|grazie|ciao|subito",
    "nl": "alsjeblieft|alstublieft|aub|graag|bedankt|hoi",
    "tr": "lutfen|tesekkurler|merhaba|artik|hemen",
    "id": "tolong|mohon|terima kasih|makasih|ya|halo|sekarang|kak|min|gan",
    "ru": "пожалуиста|спасибо|уже|привет|сеичас",
    "ar": "من فضلك|لو سمحت|رجاء|شكرا|الان|مرحبا",
}

# A request to stop is not one when it is negated: "don't stop messaging me".
_NOT = r"(?<! t )(?<!dont )(?<!wont )(?<!not )(?<!never )(?<!did you )(?<!did u )"
_EN_MESSAGES = r"(?:messages|msgs|texts|dms|these|this|promotions|promos|ads|spam)"
# "Don't text me at work" asks for another time or channel, not for silence.
_NOT_A_TIME_OR_PLACE = (
    r"(?! (?:before|after|at|on|until|during|between|in|here|there|via|about"
    r"|through|when|while|tonight|today|tomorrow|yet))"
)

# "Stop sending me the old catalogue" is about one thing, not every message.
_NOT_ONE_THING_ES = r"(?! (?:el|la|los|las|un|una) )"
_NOT_ONE_THING_PT = r"(?! (?:o|a|os|as|um|uma) )"

PHRASES_OUT: dict[str, tuple[str, ...]] = {
    # "Stop" with a word for messages is understood in every language here.
    "all": (
        _NOT + r"\bstop (?:the |these |all )?(?:spam|pub|pubs|publicite|promo|promos"
        r"|promotions|ads|messages|mensajes|mensagens|messaggi|berichten|nachrichten"
        r"|mesaj|mesajlar|pesan|сообщения|рассылку|رسايل|الرسايل)\b",
        # A keyword first, then the reason for it: "STOPP. Nie angemeldet."
        r"^(?:stop|stopp|unsubscribe|baja|sair|arret|стоп|توقف) (?:\w+ ){0,3}?"
        r"(?:not interested|no me interesa|nao tenho interesse|nao me interessa"
        r"|pas interesse|kein interesse|non mi interessa|geen interesse"
        r"|ilgilenmiyorum|tidak tertarik|не интересно|غير مهتم|never signed up"
        r"|nie angemeldet|nunca me (?:inscrevi|suscribi)|jamais inscrit)\b",
    ),
    "en": (
        _NOT + r"\bstop (?:messaging|texting|contacting|spamming|dming|dm ing"
        r"|bothering|harassing|emailing|msging|pinging|writing to|hitting) (?:me|us)\b",
        _NOT
        + r"\bstop sending (?:me |us )?(?:any )?(?:more )?(?:of )?(?:these )?"
        + _EN_MESSAGES
        + r"\b",
        r"\b(?:don t|dont|do not|never) (?:ever )?(?:message|text|contact|dm|msg"
        r"|write to|write|bother|spam|email|pm|send messages to) me\b"
        + _NOT_A_TIME_OR_PLACE,
        r"\b(?:don t|dont|do not|never) send me (?:any )?(?:more )?"
        + _EN_MESSAGES
        + r"\b",
        _NOT + r"\bunsubscribe me\b|\bopt me out\b",
        r"(?<!don t )(?<!dont )\b(?:want|wanna|need|d like|would like) to "
        r"(?:unsubscribe|opt out)\b",
        r"\b(?:remove|delete|take) me (?:off|from) (?:your|this|the|ur|all) "
        r"(?:\w+ )?(?:list|lists|contacts|messages)\b",
        _NOT + r"\bleave me alone\b",
        r"\bi (?:don t|dont|do not) want (?:to (?:receive|get) )?(?:any )?(?:more )?"
        r"(?:your |these |those )?"
        r"(?:messages|texts|dms|promotions|spam)\b",
        r"\bno more (?:messages|texts|dms|spam)\b",
    ),
    "es": (
        r"(?<!no )\b(?:deja|dejen|deje|dejad|dejar|para|paren|pare|parad) de "
        r"(?:enviar|mandar|escribir|molestar|contactar|spamear)(?:me|nos)\b"
        + _NOT_ONE_THING_ES,
        r"(?<!no )\b(?:deja|dejen|deje|dejad|para|paren|pare) de (?:enviar|mandar) "
        r"(?:me )?mensajes\b",
        r"\bno me (?:escriban|escribas|escriba|molesten|molestes|contacten"
        r"|contactes|hablen)(?: mas)?\b(?! (?:por|a|antes|despues|hasta|hoy))",
        r"\bno me (?:envien|envies|envie|manden|mandes|mande) (?:mas )?"
        r"(?:mensajes|nada|publicidad|promociones|spam)\b",
        r"\bno me vuelvan? a (?:escribir|enviar|mandar|contactar|molestar)\b",
        r"\b(?:darme|dame|denme|me doy|me quiero dar|dar me) de baja\b",
        r"\bdesuscribirme\b",
        r"\b(?:sacame|saquenme|borrame|borrenme|eliminame|elimineme) de "
        r"(?:la|tu|su|sus|esta) (?:lista|listas|base)\b",
        r"\b(?:dejame|dejenme|deje me) en paz\b",
        r"\bno quiero (?:recibir )?(?:mas )?(?:sus |tus )?"
        r"(?:mensajes|publicidad|promociones)\b",
        r"\bno mas mensajes\b|\bbasta de (?:mensajes|spam|publicidad)\b",
    ),
    "pt": (
        r"(?<!nao )\b(?:pare|parem|para|parar|deixe|deixem|deixa) de me "
        r"(?:mandar|enviar|escrever|incomodar|contatar|chamar|perturbar"
        r"|encher(?: o saco)?)\b" + _NOT_ONE_THING_PT,
        r"(?<!nao )\b(?:pare|parem|para|deixe|deixem|deixa) de (?:mandar|enviar) "
        r"(?:mensagens|mensagem|msg|spam)\b",
        r"\bnao (?:me )?(?:mande|mandem|envie|enviem|escreva|escrevam|chame"
        r"|chamem|contate|contatem|manda) (?:mais|(?:mais )?mensage(?:ns|m))\b",
        r"\bme (?:tire|tira|tirem|remova|removam|exclua|excluam) d"
        r"(?:a|essa|esta|e sua|a sua) lista\b",
        r"\b(?:quero|queria|gostaria de) sair d(?:a|essa|esta|a sua) lista\b",
        r"\b(?:quero|queria|gostaria de) (?:me descadastrar"
        r"|cancelar a inscricao|descadastrar)\b",
        r"\bme descadastr\w*|\bdescadastr\w* me\b",
        r"\bme deix(?:a|e|em) em paz\b",
        r"\bnao quero (?:mais )?receber (?:mais )?(?:suas )?"
        r"(?:mensagens|mensagem|nada|promocoes)\b",
        r"\bchega de (?:mensagens|spam)\b",
    ),
    "fr": (
        r"\barret(?:ez|e|er) de (?:m|me) (?:envoyer|ecrire|contacter|spammer|harceler"
        r"|deranger|relancer)\b",
        r"\barret(?:ez|e) (?:vos|les|ces) (?:messages|envois|spams)\b",
        r"\bne m (?:envoyez|envoie|ecrivez|ecris) plus\b",
        r"\bne plus m (?:envoyer|ecrire|contacter)\b",
        r"\bne me (?:contactez|contacte|recontactez|recontacte|derangez|derange"
        r"|harcelez|harcele|relancez) plus\b",
        r"\b(?:veux|voudrais|souhaite|aimerais) me (?:desabonner|desinscrire)\b",
        r"\b(?:desabonnez|desinscrivez|retirez|supprimez) moi\b",
        r"\blaissez moi tranquille\b|\blaisse moi tranquille\b",
        r"\b(?:foutez|fichez) moi la paix\b",
        r"\bje ne veux plus (?:recevoir )?(?:(?:de|vos|des|les|ces) ){0,2}"
        r"(?:messages|message|pubs|publicites)\b",
    ),
    "de": (
        r"\bhor\w* (?:\w+ ){0,2}auf (?:mir|mich|uns) (?:\w+ ){0,3}(?:zu "
        r"(?:schreiben|schicken|senden|kontaktieren|nerven|belastigen|spammen)"
        r"|anzuschreiben|zuzuspammen)\b",
        r"\bhor\w* (?:\w+ )?auf mit (?:dem |den |eurem |ihrem |diesem |diesen )?"
        r"(?:spam|nachrichten|werbung|schreiben|anschreiben)\b",
        r"\bschreib(?:en sie|t)? (?:mir|uns) (?:bitte )?(?:nicht|nie) mehr\b",
        r"\b(?:schick|schicke|schickt|schicken sie|send|sende|sendet|senden sie) "
        r"(?:mir|uns) (?:bitte )?keine (?:\w+ )?(?:nachrichten|werbung|mails|dms)"
        r" mehr\b",
        r"\bich (?:will|mochte) keine (?:\w+ )?(?:nachrichten|werbung) mehr\b",
        r"\bkontaktier(?:en sie|t)? mich (?:bitte )?nicht mehr\b",
        # Only at the start: "ich bekomme keine Nachrichten mehr" is a complaint.
        r"(?:^|^bitte )keine (?:\w+ )?(?:nachrichten|werbung|mails) mehr\b",
        r"\bnichts mehr von (?:euch|ihnen|dir) (?:horen|bekommen|lesen)\b",
        r"(?:^|\bbitte )(?:mir |mich )?nicht mehr (?:schreiben|anschreiben"
        r"|kontaktieren)\b",
        r"\blass(?:t|en sie)? mich (?:bitte )?(?:endlich )?in ruhe\b",
        r"\b(?:mich|uns) (?:bitte )?(?:von (?:der|dieser|ihrer|eurer) liste "
        r"|von (?:den|diesen|ihren|euren) nachrichten |vom newsletter )?"
        r"(?:abmelden|austragen)\b",
        r"\b(?:melde|meldet|melden sie) mich (?:bitte )?ab\b",
        r"\b(?:trag|tragt|tragen sie) mich (?:bitte )?aus\b",
        r"\b(?:nachrichten|newsletter) abbestellen\b",
    ),
    "it": (
        r"(?<!non )\bsmett(?:i|ete|ila|etela|a|ere) (?:di|de) (?:scrivermi"
        r"|mandarmi|inviarmi|contattarmi|disturbarmi|spammarmi|mandare messaggi"
        r"|inviare messaggi|scrivere)\b",
        r"\bnon (?:mi|ci) (?:scrivete|scrivere|scriva|scrivi|mandate|mandare"
        r"|inviate|inviare|contattate|contattare|contatti|mandi|disturbate) piu\b",
        r"\bnon (?:mandatemi|inviatemi|scrivetemi|contattatemi|scrivermi"
        r"|mandarmi) piu\b",
        r"\b(?:cancellami|cancellatemi|toglietemi|toglimi|rimuovetemi|rimuovimi)"
        r" dall?a? ?(?:lista|vostra lista|mailing list|elenco)\b",
        r"\b(?:voglio|vorrei) (?:disiscrivermi|cancellarmi)\b",
        r"\bessere (?:cancellat|rimoss|tolt)[oaie] (?:dalla|dalle|dai) "
        r"(?:lista|vostra lista|mailing list|elenco|vostri contatti)\b",
        r"\bdisiscrivermi\b|\bdisiscrivetemi\b",
        r"\blascia(?:temi|mi) (?:in pace|stare)\b",
        r"\bbasta (?:con (?:i |questi )?)?(?:messaggi|spam|pubblicita)\b",
        r"\bnon voglio (?:piu )?(?:ricevere )?(?:piu )?(?:i vostri |vostri )?"
        r"(?:messaggi|messaggio|pubblicita|promozioni)\b",
    ),
    "nl": (
        r"(?<!niet )\b(?:stop|stopt|stoppen) (?:alsjeblieft |aub |nu )?met "
        r"(?:mij |me |ons )?(?:\w+ ){0,2}(?:berichten|appen|appjes|mailen"
        r"|spammen|sturen|contacteren)\b",
        r"\b(?:stuur|stuurt|stuurt u) (?:me|mij|ons) (?:aub |alsjeblieft )?geen "
        r"(?:\w+ )?(?:berichten"
        r"|berichtjes|appjes|reclame|spam|mails) meer\b",
        r"\b(?:laat|laten|laat u) (?:me|mij) (?:nu |alsjeblieft )?met rust\b",
        r"\b(?:ik wil|wil ik) (?:me |mij )?(?:afmelden|uitschrijven)\b",
        r"\bmeld (?:me|mij) af\b|\bschrijf (?:me|mij) uit\b",
        r"\bhou(?:d|dt)? (?:\w+ )?op met (?:\w+ ){0,2}(?:appen|berichten|spammen"
        r"|sturen|mailen)\b",
        r"\b(?:neem|neemt) (?:geen|nooit meer) contact (?:meer )?(?:met (?:me|mij) )?"
        r"op\b",
        r"\b(?:app|bericht|mail) (?:me|mij) niet meer\b",
        r"\bik wil geen (?:\w+ )?(?:berichten|reclame) meer\b",
    ),
    "tr": (
        r"\b(?:mesaj|mesajlar|mesajlari|bildirim|reklam) (?:atmayin|atmayiniz"
        r"|atma|gondermeyin|gondermeyiniz|gonderme|yollamayin|yollama)\b",
        r"\b(?:atmayi|gondermeyi|yazmayi|yollamayi) (?:birakin|birak|kesin|kes)\b",
        r"\bbana (?:bir daha |artik )?(?:yazmayin|yazma|ulasmayin)\b",
        r"\bbeni (?:\w+ )?(?:listeden|listenizden|listenden) "
        r"(?:cikarin|cikar|silin|sil)\b",
        r"\babonelikten (?:cik|cikmak|cikar)",
        r"\b(?:listenizden|listeden|listenden) (?:cikmak|cikarilmak) istiyorum\b",
        r"\bbeni rahat (?:birakin|birak)\b|\brahat birakin beni\b",
        r"\brahatsiz (?:etmeyin|etmeyiniz|etme)\b",
        r"\bmesaj (?:almak )?istemiyorum\b|\bmesajlarinizi istemiyorum\b",
    ),
    "id": (
        r"\b(?:berhenti|stop|setop) (?:mengirim|kirim|mengirimi|kirimin|kirimi"
        r"|nge chat|chat|menghubungi|hubungi|spam)"
        r"(?: saya| aku| gue| gw| pesan| chat| promo)",
        r"\bjangan (?:kirim|kirimi|kirimin|mengirim|chat|hubungi|menghubungi|spam"
        r"|dm) (?:saya|aku|gue|gw|pesan|chat|promo)",
        r"\bberhenti berlangganan\b",
        r"\bhapus (?:saya|nomor saya|aku) dari (?:daftar|list)\b",
        # Without "receive" before it, "pesan" is the verb "to order".
        r"\b(?:tidak|gak|nggak|ga|ngga|enggak) (?:mau|ingin) (?:(?:menerima|terima"
        r"|dapat|dapet) (?:pesan|chat|promo)|(?:chat|promo) (?:\w+ )?lagi)",
        r"\bjangan ganggu (?:saya|aku|gue|gw)\b",
    ),
    "ru": (
        r"(?<!не )\b(?:перестаньте|перестань|прекратите|прекрати|хватит) "
        r"(?:мне |меня )?(?:писать|присылать|слать|отправлять|спамить|беспокоить)\b",
        r"\bне (?:пишите|пиши|присылаите|присылаи|беспокоите) (?:мне )?больше\b",
        r"\bне (?:присылаите|присылаи|отправляите) (?:мне )?(?:рассылку|сообщения"
        r"|рекламу|спам)\b",
        r"\bбольше (?:мне )?не (?:пишите|пиши|присылаите|присылаи|беспокоите"
        r"|отправляите)\b",
        r"\bотпишите меня\b|\b(?:хочу|хотел бы|хотела бы) отписаться\b",
        r"\bудалите меня (?:из|с) (?:вашеи |вашего )?(?:рассылки|списка|базы)\b",
        r"\bоставьте меня в покое\b|\bотстаньте от меня\b",
        r"\bне хочу (?:больше )?получать (?:ваши )?(?:сообщения|рассылку)\b",
    ),
    "ar": (
        r"\b(?:توقف|توقفوا|توقفي|التوقف|كف|كفوا) عن (?:ارسال|مراسلتي|مراسلتنا|الارسال"
        r"|ازعاجي|الرسايل|التواصل معي)",
        r"\bلا (?:ترسل|ترسلوا|ترسلي|تبعت|تبعتوا) (?:لي )?(?:اي |ايه )?"
        r"(?:رسايل|رساله|شي|شيء)\b",
        r"\bلا (?:تراسلني|تراسلوني|تزعجني|تزعجوني|تتواصل معي|تتواصلوا معي)\b",
        r"\bالغاء الاشتراك\b",
        r"\b(?:احذفني|احذفوني|ازلني|ازيلوني|شيلوني|امسحوني) من\b",
        r"\bاتركو?ني (?:في حالي|وشاني|بحالي)\b",
        r"\b(?:لا|ما) (?:اريد|ابي|ابغي|بدي) (?:استلام |تلقي |استقبال )?(?:اي )?"
        r"(?:رسايل|رساله)",
    ),
}

PHRASES_IN: dict[str, tuple[str, ...]] = {
    "en": (
        r"\b(?:start|resume) (?:sending|messaging|texting) me (?:\w+ ){0,2}again\b",
        r"\b(?:start|resume) (?:receiving|getting) (?:your |the )?(?:messages|offers"
        r"|texts|dms|promotions|updates) again\b",
        r"\b(?:subscribe|sign) me (?:up )?(?:back|again)\b|\bresubscribe me\b",
        r"\bopt me (?:back )?in\b|\bi (?:want|d like) to opt (?:back )?in\b",
        r"\byou can (?:message|text|contact|dm) me again\b",
        r"\bi want to (?:resubscribe|subscribe again|receive messages again"
        r"|get messages again|get your messages again)\b",
    ),
    "es": (
        r"\bquiero volver a (?:recibir|suscribirme)\b",
        r"\bvuelvan a (?:enviarme|mandarme|escribirme)\b",
        # "darme de alta en el programa de puntos" joins something else.
        r"\b(?:darme|denme) de alta\b(?! (?:en|para) )",
        r"\bpueden (?:volver a (?:escribirme|enviarme|mandarme)|escribirme de nuevo)",
    ),
    "pt": (
        r"\bquero voltar a receber\b",
        r"\bvoltem a me (?:mandar|enviar)\b",
        r"\bpodem (?:voltar a )?me (?:mandar|enviar) mensagens de novo\b",
        r"\bme (?:inscreva|inscrevam|cadastre|cadastrem|recadastre) de novo\b",
    ),
    "fr": (
        r"\bje veux (?:de nouveau |a nouveau )?recevoir (?:vos |les |des )?"
        r"messages (?:de nouveau|a nouveau)?",
        r"\breabonnez moi\b|\bme reabonner\b|\bme reinscrire\b",
        r"\bm (?:ecrire|envoyer des messages) (?:de nouveau|a nouveau)\b",
    ),
    "de": (
        r"\bwieder (?:anmelden|abonnieren)\b|\bmeld(?:e|et|en sie) mich wieder an\b",
        r"\bmir wieder (?:schreiben|nachrichten schicken)\b",
        r"\bich (?:mochte|will) wieder nachrichten\b",
    ),
    "it": (
        r"\bvoglio (?:di nuovo |tornare a )?ricevere (?:i vostri )?messaggi",
        r"\bscrivermi di nuovo\b|\bscrivetemi di nuovo\b",
        r"\breiscrivermi\b|\briscrivetemi\b",
    ),
    "nl": (
        r"\bweer aanmelden\b|\bmeld (?:me|mij) weer aan\b",
        r"\b(?:me|mij) weer (?:berichten sturen|appen|mailen|een bericht sturen)\b",
        r"\bik wil weer berichten\b",
    ),
    "tr": (
        r"\b(?:tekrar|yeniden) (?:mesaj (?:almak|gonderebilirsiniz|atabilirsiniz)"
        r"|abone olmak)\b",
        r"\byeniden abone\b",
    ),
    "id": (
        r"\b(?:berlangganan|langganan) lagi\b",
        # "kirim saya lagi promonya" asks for that one promotion again.
        r"\b(?:boleh|bisa) (?:kirim|chat|hubungi) (?:saya|aku) lagi\b(?! \w+nya)",
        r"\b(?:saya|aku) mau (?:menerima|terima|dapat) (?:pesan|promo) lagi\b",
    ),
    "ru": (
        r"\bснова подписаться\b|\bподпишите меня (?:снова|обратно)\b",
        r"\bможете (?:мне )?(?:снова|опять) (?:мне )?(?:писать|присылать)\b",
        r"\bможете (?:мне )?(?:писать|присылать) (?:мне )?(?:снова|опять)\b",
        r"\bхочу снова получать\b|\bвозобновите (?:рассылку|подписку)\b",
    ),
    "ar": (
        r"\b(?:اعد|اعيدوا) (?:اشتراكي|تفعيل)",
        r"\bاشتركني\b",
        r"\bيمكنكم مراسلتي (?:مجددا|مره اخري|من جديد)",
        r"\bاريد (?:الاشتراك|استلام الرسايل) (?:مجددا|من جديد)",
    ),
}
