"""The default questionnaires, from design/surveys.md §(c) (data only).

"default": the seven-question SMS follow-up (S0-S8, R1) and the same items as a phone script.
"status": a one-question status check ("Arbetar du eller studerar du nu?") for the 12-month wave.
Every SMS text is GSM-7 (no typographic dashes or quotes) and discreet: it never names
socialtjänsten or försörjningsstöd (a test enforces both). ``{kommun}`` is the sender name.
"""

from __future__ import annotations

from typing import Any

STATUS_CHOICES = [
    {"key": 1, "value": "working", "label_sv": "arbetar"},
    {"key": 2, "value": "studying", "label_sv": "studerar"},
    {"key": 3, "value": "both", "label_sv": "både och"},
    {"key": 4, "value": "neither", "label_sv": "inget av det"},
]

_REPROMPT_SV = "Vi förstod inte ditt svar. {hint} Skriv STOPP om du vill sluta."
_REPROMPT_EN = "We did not understand your answer. {hint} Reply STOP if you want to stop."

_COMMON_SV = {
    "reminder": "Hej igen! Vi har inte fått något svar. Svara på frågan ovan när du kan, "
    "eller skriv STOPP om du vill sluta.",
    "thanks": "Tack för dina svar! De hjälper oss att bli bättre. "
    "Vill du att någon ringer dig? Svara RING MIG.",
    "opted_out": "Okej, du får inga fler sms från oss om den här frågan. Tack!",
}
_COMMON_EN = {
    "reminder": "Hello again! We have not received an answer. Reply to the question above when you can, "
    "or reply STOP if you want to stop.",
    "thanks": "Thank you for your answers! They help us do better. "
    "Would you like someone to call you? Reply CALL ME.",
    "opted_out": "OK, you will get no more texts from us about this. Thank you!",
}


def _q(
    key: str,
    kind: str,
    sv: str,
    en: str,
    hint_sv: str,
    hint_en: str,
    phone: str,
    probe: str = "",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "texts": {
            "sv": {f"question:{key}": sv, f"reprompt:{key}": _REPROMPT_SV.format(hint=hint_sv)},
            "en": {f"question:{key}": en, f"reprompt:{key}": _REPROMPT_EN.format(hint=hint_en)},
        },
        "phone_prompt": phone,
        "phone_probe": probe,
        **extra,
    }


DEFAULT_QUESTIONNAIRE: dict[str, Any] = {
    "key": "default_followup",
    "name": "Uppföljning efter avslut (7 frågor)",
    "texts": {
        "sv": {
            "intro": "Hej! Här är {kommun}. Du hade kontakt med oss tidigare. Vi vill veta vad som "
            "hjälpte dig. 7 korta frågor, frivilligt. Svara STOPP så slutar vi.",
            **_COMMON_SV,
        },
        "en": {
            "intro": "Hi! This is {kommun}. You were in contact with us before. We want to know what "
            "helped you. 7 short questions, voluntary. Reply STOP to stop.",
            **_COMMON_EN,
        },
    },
    "phone_intro": "Hej, jag heter [namn] och ringer från [enhet] i [kommun]. Är det [förnamn] jag "
    "talar med? Passar det att prata fem minuter? (Svarar någon annan: säg inte varför du ringer, "
    "fråga bara efter en bättre tid.)",
    "phone_consent": "Vi ringer alla som avslutat sin kontakt med oss för att de fått jobb eller börjat "
    "studera. Vi vill veta vad som hjälpte och vad vi kan göra bättre. Det är frivilligt, och dina svar "
    "påverkar inte om du skulle behöva söka stöd igen. Vi skriver inte ner namn i svaren. Vill du svara?",
    "phone_closing": "Tack! Vi samlar svaren och berättar vad vi ändrar. Om samtalet visade ett nytt behov "
    "eller en risk: fråga om någon ska kontakta personen, och öppna ett ärende.",
    "questions": [
        _q(
            "status",
            "choice",
            "Fråga 1 av 7: Vad gör du nu? Svara med en siffra: 1 = arbetar, 2 = studerar, 3 = både och, "
            "4 = inget av det just nu.",
            "Question 1 of 7: What do you do now? Reply with a number: 1 = working, 2 = studying, "
            "3 = both, 4 = neither right now.",
            "Svara med en siffra 1-4.",
            "Reply with a number 1-4.",
            "Vad gör du nu: arbetar, studerar, både och, eller inget av det just nu?",
            "Är det en anställning som fortsätter framåt?",
            choices=STATUS_CHOICES,
            is_status=True,
        ),
        _q(
            "satisfaction",
            "scale",
            "Fråga 2 av 7: Hur nöjd är du med stödet du fick av oss? Svara 1-5 (1 = inte alls nöjd, "
            "5 = mycket nöjd).",
            "Question 2 of 7: How satisfied are you with the support you got from us? Reply 1-5 "
            "(1 = not at all, 5 = very satisfied).",
            "Svara med en siffra 1-5.",
            "Reply with a number 1-5.",
            "På en skala från 1 till 5, där 5 är mycket nöjd: hur nöjd är du med stödet du fick?",
            skr_area="helhetssyn",
            low_score_opens_case=True,
        ),
        _q(
            "respect",
            "scale",
            "Fråga 3 av 7: Kände du dig lyssnad på och respekterad? Svara 1-5 (1 = inte alls, "
            "5 = helt och hållet).",
            "Question 3 of 7: Did you feel listened to and respected? Reply 1-5 (1 = not at all, "
            "5 = completely).",
            "Svara med en siffra 1-5.",
            "Reply with a number 1-5.",
            "Kände du dig lyssnad på och respekterad? 1 till 5.",
            "Om 2 eller lägre: Vill du berätta vad som hände? (skriv som fritext i anteckningen)",
            skr_area="bemotande",
            low_score_opens_case=True,
        ),
        _q(
            "influence",
            "yes_no",
            "Fråga 4 av 7: Fick du vara med och bestämma om din planering? Svara JA eller NEJ.",
            "Question 4 of 7: Did you have a say in your plan? Reply YES or NO.",
            "Svara JA eller NEJ.",
            "Reply YES or NO.",
            "Fick du vara med och bestämma om din planering, ja eller nej?",
            skr_area="delaktighet",
        ),
        _q(
            "cooperation",
            "scale",
            "Fråga 5 av 7: Samarbetade vi bra med andra, till exempel Arbetsförmedlingen, kring dig? "
            "Svara 1-5 (1 = inte alls, 5 = mycket bra) eller 0 = vet inte.",
            "Question 5 of 7: Did we cooperate well with others, for example the employment service? "
            "Reply 1-5 (1 = not at all, 5 = very well) or 0 = don't know.",
            "Svara med en siffra 0-5.",
            "Reply with a number 0-5.",
            "Tycker du att vi samarbetade bra med andra, till exempel Arbetsförmedlingen, "
            "vuxenutbildningen eller vården? 1 till 5, eller vet inte.",
            skr_area="samverkan",
            allow_dont_know=True,
        ),
        _q(
            "helped",
            "free_text",
            "Fråga 6 av 7: Vad hjälpte dig mest på vägen till jobb eller studier? Skriv med egna ord. "
            "Skriv inte namn eller personnummer.",
            "Question 6 of 7: What helped you most on the way to work or studies? Use your own words. "
            "Do not write names or ID numbers.",
            "Skriv med egna ord, eller 0 för att hoppa över.",
            "Use your own words, or 0 to skip.",
            "Vad var det som hjälpte dig mest på vägen till jobb eller studier?",
            "Något mer?",
            allow_skip=True,
        ),
        _q(
            "improve",
            "free_text",
            "Fråga 7 av 7: Vad borde vi göra bättre? Skriv gärna. Svara 0 om du vill hoppa över.",
            "Question 7 of 7: What should we do better? Please write. Reply 0 to skip.",
            "Skriv med egna ord, eller 0 för att hoppa över.",
            "Use your own words, or 0 to skip.",
            "Om du fick ändra en sak hos oss, vad skulle det vara?",
            allow_skip=True,
        ),
    ],
}

STATUS_QUESTIONNAIRE: dict[str, Any] = {
    "key": "status_check",
    "name": "Statusfråga (arbete eller studier)",
    "texts": {
        "sv": {
            "intro": "Hej! Här är {kommun}. Vi har en kort fråga till dig, frivilligt. "
            "Svara STOPP så slutar vi.",
            **_COMMON_SV,
            "thanks": "Tack för ditt svar! Vill du att någon ringer dig? Svara RING MIG.",
        },
        "en": {
            "intro": "Hi! This is {kommun}. We have one short question for you, voluntary. Reply STOP to stop.",
            **_COMMON_EN,
            "thanks": "Thank you for your answer! Would you like someone to call you? Reply CALL ME.",
        },
    },
    "phone_intro": DEFAULT_QUESTIONNAIRE["phone_intro"],
    "phone_consent": "Vi hör av oss till alla som avslutat sin kontakt med oss. Det är frivilligt och "
    "påverkar inte om du skulle behöva söka stöd igen. Vill du svara på en fråga?",
    "phone_closing": "Tack för att du svarade!",
    "questions": [
        _q(
            "status",
            "choice",
            "Arbetar du eller studerar du nu? Svara med en siffra: 1 = arbetar, 2 = studerar, "
            "3 = både och, 4 = inget av det just nu.",
            "Are you working or studying now? Reply with a number: 1 = working, 2 = studying, "
            "3 = both, 4 = neither right now.",
            "Svara med en siffra 1-4.",
            "Reply with a number 1-4.",
            "Arbetar du eller studerar du nu, eller både och, eller inget av det just nu?",
            "Är det en anställning som fortsätter framåt?",
            choices=STATUS_CHOICES,
            is_status=True,
        )
    ],
}

DEFAULTS = (DEFAULT_QUESTIONNAIRE, STATUS_QUESTIONNAIRE)

# Replies to signals in a person's message (surveys.cases.signals), in every language we offer.
# Sent at once, also outside office hours, so they must stand alone: discreet (no word about why
# we know the person), plain, GSM-7 in Swedish and English. The crisis acknowledgement is put
# together from "crisis_received", the help lines its crisis kinds need (suicide → 90101,
# violence by someone close → Kvinnofridslinjen, illness → 1177), "help_112" and, when a case
# was opened, when someone will call (surveys.questionnaires.texts.crisis_acknowledgement).
SIGNAL_REPLIES: dict[str, dict[str, str]] = {
    "sv": {
        "crisis_received": "Tack för att du skrev till oss.",
        "help_suicide": "Har du tankar på att ta ditt liv? Ring Självmordslinjen 90101.",
        "help_partner_violence": "Blir du slagen eller hotad av någon nära? "
        "Ring Kvinnofridslinjen 020-50 50 50, det är gratis.",
        "help_illness": "Är du sjuk? Ring 1177 för råd om vård.",
        "help_112": "Är det akut fara, ring 112.",
        "call_today": "En person från oss ringer dig i dag.",
        "call_next_day": "En person från oss ringer dig nästa arbetsdag.",
        "call_me_confirm": "Tack! Vi ringer dig inom två arbetsdagar. Är det akut fara, ring 112.",
        "opt_out_confirm": "Du får inga fler sms från oss. Skriv START om du vill få sms igen.",
    },
    "sv-easy": {
        "crisis_received": "Tack för ditt sms.",
        "help_suicide": "Tänker du på att dö? Ring Självmordslinjen: 90101.",
        "help_partner_violence": "Slår eller hotar någon dig hemma? Ring Kvinnofridslinjen: 020-50 50 50. "
        "Det är gratis.",
        "help_illness": "Är du sjuk? Ring 1177.",
        "help_112": "Är det fara nu? Ring 112.",
        "call_today": "Vi ringer dig i dag.",
        "call_next_day": "Vi ringer dig nästa arbetsdag.",
        "call_me_confirm": "Tack! Vi ringer dig inom två arbetsdagar. Är det fara nu? Ring 112.",
        "opt_out_confirm": "Nu får du inga fler sms från oss. Vill du få sms igen? Skriv START.",
    },
    "en": {
        "crisis_received": "Thank you for writing to us.",
        "help_suicide": "If you are thinking about taking your life, call Självmordslinjen (suicide helpline) "
        "on 90101.",
        "help_partner_violence": "If someone close to you hurts or threatens you, call Kvinnofridslinjen "
        "on 020-50 50 50, free of charge.",
        "help_illness": "If you are ill, call 1177 for healthcare advice.",
        "help_112": "In an emergency, call 112.",
        "call_today": "Someone from our office will call you today.",
        "call_next_day": "Someone from our office will call you on the next working day.",
        "call_me_confirm": "Thank you! We will call you within two working days. In an emergency, call 112.",
        "opt_out_confirm": "You will not get any more texts from us. Reply START if you want texts again.",
    },
    "ar": {
        "crisis_received": "شكرًا لأنك كتبت إلينا.",
        "help_suicide": "إذا كنت تفكر في إنهاء حياتك، اتصل بخط المساعدة Självmordslinjen على الرقم 90101.",
        "help_partner_violence": "إذا كان شخص قريب منك يضربك أو يهددك، اتصل بـ Kvinnofridslinjen "
        "على الرقم 020-50 50 50، والمكالمة مجانية.",
        "help_illness": "إذا كنت مريضًا، اتصل بالرقم 1177 للحصول على استشارة طبية.",
        "help_112": "في حالة الطوارئ اتصل بالرقم 112.",
        "call_today": "سيتصل بك أحد موظفينا اليوم.",
        "call_next_day": "سيتصل بك أحد موظفينا في يوم العمل التالي.",
        "call_me_confirm": "شكرًا! سنتصل بك خلال يومي عمل. في حالة الطوارئ اتصل بالرقم 112.",
        "opt_out_confirm": "لن تصلك رسائل أخرى منا. أرسل START إذا أردت استلام الرسائل مرة أخرى.",
    },
    "so": {
        "crisis_received": "Waad ku mahadsan tahay inaad noo soo qortay.",
        "help_suicide": "Haddii aad ka fikirayso inaad naftaada qaaddo, wac Självmordslinjen 90101.",
        "help_partner_violence": "Haddii qof kuu dhow ku garaaco ama kugu hanjabo, wac Kvinnofridslinjen "
        "020-50 50 50, waa bilaash.",
        "help_illness": "Haddii aad xanuunsan tahay, wac 1177 si aad u hesho talo caafimaad.",
        "help_112": "Haddii ay tahay xaalad degdeg ah, wac 112.",
        "call_today": "Qof ka mid ah shaqaalahayaga ayaa ku soo wici doona maanta.",
        "call_next_day": "Qof ka mid ah shaqaalahayaga ayaa ku soo wici doona maalinta shaqo ee xigta.",
        "call_me_confirm": "Mahadsanid! Waxaan ku soo wici doonnaa laba maalmood oo shaqo gudahood. "
        "Haddii ay degdeg tahay, wac 112.",
        "opt_out_confirm": "Fariimo kale nagama heli doontid. Qor START haddii aad rabto inaad mar kale "
        "fariimo hesho.",
    },
}

# The quoting question asked after an open answer, and the confirmation of a withdrawal, in every
# language we offer (the languages of ``SIGNAL_REPLIES``). Why a catalogue and not a text of each
# questionnaire: the question belongs to every questionnaire with free text, including versions
# saved before it existed; an admin may still override it per questionnaire and language by saving
# a text with the same key ("quote_consent", "quote_withdrawn"). Plain and discreet like every
# SMS; Swedish, lätt svenska, English and Somali are GSM-7 and one segment. The Arabic and Somali
# wording was written for this feature and awaits review by a native speaker.
QUOTE_CONSENT_TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "quote_consent": "Får vi visa det du skrev som citat i våra rapporter, utan namn? Svara JA eller NEJ. "
        "Inget svar betyder nej. Ångrar du dig, skriv TA BORT CITAT.",
        "quote_withdrawn": "Vi har tagit bort ditt citat. Det du skrev visas inte längre som citat.",
    },
    "sv-easy": {
        "quote_consent": "Får vi visa det du skrev för andra? Vi visar inte ditt namn. Svara JA eller NEJ. "
        "Svarar du inte, blir det nej. Ändrar du dig? Skriv TA BORT CITAT.",
        "quote_withdrawn": "Nu har vi tagit bort ditt citat. Vi visar inte det du skrev.",
    },
    "en": {
        "quote_consent": "May we show what you wrote as a quote in our reports, without your name? "
        "Reply YES or NO. No reply means no. To change your mind, reply REMOVE QUOTE.",
        "quote_withdrawn": "We have removed your quote. What you wrote is no longer shown as a quote.",
    },
    "ar": {
        "quote_consent": "هل نستطيع أن نعرض ما كتبته كاقتباس في تقاريرنا، بدون اسمك؟ أرسل نعم أو لا. "
        "عدم الرد يعني لا. إذا غيرت رأيك، أرسل: احذف اقتباسي",
        "quote_withdrawn": "لقد حذفنا اقتباسك. لن نعرض ما كتبته كاقتباس بعد الآن.",
    },
    "so": {
        "quote_consent": "Ma tusi karnaa waxaad qortay oo xigasho ah, magacaaga la'aan? Ku jawaab HAA ama "
        "MAYA. Jawaab la'aan waa MAYA. Haddii aad beddesho, qor KA SAAR XIGASHADA.",
        "quote_withdrawn": "Waan ka saarnay xigashadaada. Waxaad qortay looma tusi doono xigasho mar dambe.",
    },
}
# Said by the caseworker in the phone script after an open answer (Swedish, like the script).
PHONE_QUOTE_CONSENT = (
    "Får vi visa det du just sa som citat i våra rapporter, utan namn och utan sådant som visar vem du "
    "är? Det är frivilligt. Du kan ändra dig senare."
)
