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
