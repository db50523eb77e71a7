"""What demo clients write and caseworkers note, in plain Swedish as people really text.

Open answers come from two places: the shipped labelled development data (paraphrased client
statements, ``nlp/data/themes_dev.jsonl``; short ones only, SMS are short) and the short SMS-style
replies below, written for the demo from the glossary's themes. Some texts carry a name or a
number on purpose: the demo then shows that redaction happens before anyone reads them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEV_DATA = Path(__file__).resolve().parents[2] / "nlp" / "data" / "themes_dev.jsonl"
MAX_SMS_LIKE_CHARS = 220

HELPED_SHORT = (
    "Praktiken på lagret ledde till jobb. Handledaren där var guld värd.",
    "Att min handläggare trodde på mig när jag själv inte gjorde det.",
    "Jobbcoachen på AME hjälpte mig med CV och att öva på intervjuer.",
    "Att jag fick gå svenskkursen samtidigt som praktiken.",
    "Snabba besked när jag väl hade lämnat in allt.",
    "Att Arbetsförmedlingen och kommunen hade möten tillsammans med mig.",
    "Min handläggare Lena var alltid tydlig med vad jag behövde göra.",
    "Jag fick hjälp att söka CSN och komma in på komvux.",
    "Bra bemötande hela vägen, jag kände mig aldrig dum.",
    "Anställningsstödet gjorde att arbetsgivaren vågade ta in mig.",
    "Att någon ringde och frågade hur det gick, det betydde mycket.",
    "Körkortet som vi planerade tillsammans, utan det hade jag inte fått jobbet.",
    "Hjälpen med budget och skulder gjorde att jag kunde sova igen.",
    "Samtalen med socialsekreteraren när jag mådde dåligt.",
    "Att jag fick vara med och bestämma planen själv.",
    "Yrkesutbildningen inom vården, nu jobbar jag som undersköterska.",
    "Tolken var bra, då förstod jag allt på mötena.",
    "Inget speciellt, jag hittade jobbet själv.",
    "Stödet från min kontaktperson på AME varje vecka.",
    "Att de hjälpte mig med bostaden först, sen kunde jag tänka på jobb.",
)

IMPROVE_SHORT = (
    "Svara i telefon! Telefontiden är alltid full.",
    "Det tog över en månad att få ett beslut. Man kan inte vänta så länge utan pengar.",
    "Jag fick byta handläggare fyra gånger och berätta allt från början.",
    "Breven är svåra att förstå. Skriv enklare.",
    "Ni och Arbetsförmedlingen sa olika saker, jag visste inte vem jag skulle lyssna på.",
    "Man känner sig misstänkt hela tiden, som om man fuskar.",
    "Jag satt fast i samma aktivitet i ett år utan att något hände.",
    "Mer hjälp med riktiga jobb, inte bara kurser.",
    "Pengarna räckte inte till mat sista veckan varje månad.",
    "Lyssna mer på vad man själv vill jobba med.",
    "Ingen frågade hur jag mådde. Jag var sjuk men fick ändå krav.",
    "Kortare väntan på första mötet.",
    "Att man kan skicka papper digitalt i stället för att åka in.",
    "Handläggaren var otrevlig och pratade över huvudet på mig.",
    "Ring tillbaka när ni lovar det.",
    "Mer tid på mötena, det var alltid stressigt.",
    "Tolk borde finnas varje gång, inte bara ibland.",
    "När man får jobb måste stödet inte försvinna direkt, första lönen kommer sent.",
    "Jag fick avslag och ingen förklarade varför.",
    "Inget, det var bra.",
)

WORRY_TEXTS = (
    "Jag orkar inte mer, jobbet tog slut och hyran är obetald.",
    "Vi har fått ett brev om vräkning och jag vet inte vad jag ska göra.",
)

CALL_NOTES = (
    "Arbetar heltid sedan i våras. Nöjd med stödet men tyckte väntan på beslut var lång.",
    "Studerar på komvux. Vill ha information om studiemedel, hänvisad till CSN.",
    "Visstidsanställning som går ut i juni. Orolig för vad som händer sen.",
    "Pratade med Fatima Hassan som berättade att praktiken blev en anställning.",
    "Svarade kort, hade bråttom. Arbetar deltid och har fortfarande svårt att få pengarna att räcka.",
    "Tyckte att samarbetet mellan AME och Arbetsförmedlingen fungerade bra.",
    "Beskriver bra bemötande men att det var svårt att nå handläggaren på telefon.",
    "Har fått fast jobb inom äldreomsorgen. Tackar för hjälpen.",
)

CASE_ACTIONS = (
    "Ringde upp samma dag. Bokade ett möte om budget och hänvisade till budget- och skuldrådgivningen.",
    "Kontaktade personen, som ville ha hjälp att söka bostadstillägg. Skickade blankett och tid för möte.",
    "Samtal genomfört. Personen mår bättre och vill inte ha mer kontakt just nu.",
    "Ringde tre gånger utan svar, skickade brev med telefontid.",
    "Hänvisade till hälsocentralen och erbjöd stödsamtal hos vår socionom Sara Lind.",
    "Ny ansökan om ekonomiskt bistånd påbörjad tillsammans med personen.",
)


@dataclass(frozen=True)
class Reply:
    text: str
    positive: bool


@cache
def dev_replies() -> tuple[Reply, ...]:
    """Short labelled dev statements, split by their sentiment label (neutral counts as positive
    here: it answers "what helped" rather than "what should we do better")."""
    if not DEV_DATA.exists():
        return ()
    out: list[Reply] = []
    for line in DEV_DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text = str(row.get("text", "")).strip()
        if 10 <= len(text) <= MAX_SMS_LIKE_CHARS:
            out.append(Reply(text, row.get("sentiment") != "neg"))
    return tuple(out)


def helped(rng: random.Random) -> str:
    pool = [r.text for r in dev_replies() if r.positive]
    return rng.choice(pool) if pool and rng.random() < 0.4 else rng.choice(HELPED_SHORT)


def improve(rng: random.Random) -> str:
    pool = [r.text for r in dev_replies() if not r.positive]
    return rng.choice(pool) if pool and rng.random() < 0.5 else rng.choice(IMPROVE_SHORT)
