"""The phrase table behind ``surveys.cases.signals`` (data): one rule per signal and language.

Each rule is a list of alternatives, one phrase per line, matched as whole words on the text
after ``signals.normalise`` (lower case, punctuation removed, Arabic letters unified). Swedish
misspellings are written as character classes (``sj[äa]lvmord``). A rule with ``negatable``
is cancelled by a negation word right before the phrase ("ingen hotar mig"); rules whose phrase
already contains its negation ("ingen mat", "لا أريد رسائل") are not negatable.

To add a phrase: add it here, add a message using it (and a near miss that must not fire) to
``tests/surveys/signals_labelled.jsonl``, and run ``feedback signals evaluate --data …``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Signal(enum.StrEnum):
    CRISIS = "crisis"
    CALL_ME = "call_me"
    OPT_OUT = "opt_out"


class CrisisKind(enum.StrEnum):
    SUICIDE = "suicide"  # suicidal thoughts, "orkar inte mer"
    PARTNER_VIOLENCE = "partner_violence"  # violence or threats by a partner or at home
    VIOLENCE = "violence"  # violence or threats (someone else, or not said who)
    ILLNESS = "illness"  # acute illness
    EVICTION = "eviction"  # eviction, homelessness
    NO_FOOD = "no_food"  # no food
    URGENT = "urgent"  # asks for help now without saying why


# Most urgent first: a case's summary and the acknowledgement list kinds in this order.
CRISIS_ORDER = tuple(CrisisKind)
SIGNAL_ORDER = tuple(Signal)


@dataclass(frozen=True)
class Rule:
    signal: Signal
    language: str  # "sv", "en", "ar", "so" (lätt svenska uses the Swedish rules)
    pattern: re.Pattern[str]
    kind: CrisisKind | None = None
    negatable: bool = True  # a negation just before the phrase cancels it


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b")


def _rules(signal: Signal, language: str, *alternatives: str, kind: CrisisKind | None = None,
           negatable: bool = True) -> Rule:  # fmt: skip
    return Rule(signal, language, _rx(*alternatives), kind, negatable)


C, R, OPT = Signal.CRISIS, Signal.CALL_ME, Signal.OPT_OUT
K = CrisisKind

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------ crisis: suicide, despair
    _rules(
        C,
        "sv",
        r"ta livet av mig",
        r"ta mitt (eget )?liv",
        r"sj[äa]lvmord\w*",
        r"sj[äa]lmord\w*",
        r"(vill|orkar) inte (att )?leva",
        r"vill (bara )?d[öo]",
        r"orkar inte (mer|l[äa]ngre|leva)",
        r"skada mig sj[äa]lv",
        r"inte v[äa]rt att leva",
        r"vill f[öo]rsvinna",
        r"tagit (alla|massa|en massa) (tabletter|piller)",
        kind=K.SUICIDE,
    ),
    _rules(
        C,
        "en",
        r"kill(ing)? my ?self",
        r"suicid\w*",
        r"end(ing)? my (own )?life",
        r"take my (own )?life",
        r"want(ed)? to die",
        r"wanna die",
        r"(want|wish) i was dead",
        r"(dont|don t|do not) want to (live|be alive)",
        r"no reason to live",
        r"hurt(ing)? my ?self",
        r"can ?t go on",
        r"cannot go on",
        r"can ?t take (it|this) any ?more",
        kind=K.SUICIDE,
    ),
    _rules(
        C,
        "ar",
        r"\w*انتحار\w*",
        r"انتحر\w*",
        r"اقتل نفسي",
        r"انهي حياتي",
        r"اريد ان اموت",
        r"ابغي اموت",
        r"بدي موت",
        r"لا اريد ان اعيش",
        r"لا اريد العيش",
        r"تعبت من الحياه",
        r"اوذي نفسي",
        kind=K.SUICIDE,
        negatable=False,
    ),
    _rules(
        C,
        "so",
        r"is dil\w*",
        r"isdil\w*",
        r"naftayda (iska )?(qaad|qaado|qaato|dilo)",
        r"(waan|waxaan) (dhiman|dhimasho) rabaa",
        r"dhimasho (ayaan|baan) rabaa",
        r"ma rabo inaan (noolaado|noolaado dambe|sii noolaado)",
        r"nolosha (waan )?ka daalay",
        kind=K.SUICIDE,
        negatable=False,
    ),
    # ------------------------------------------------------------ crisis: violence by a partner
    _rules(
        C,
        "sv",
        r"(sambo|sambon|min man|mannen|maken|min make|min fru|frun|pojkv[äa]n\w*|"
        r"flickv[äa]n\w*|partner|exet|min kille|min tjej|ex sambo|f[öo]re detta)\w* "
        r"(sl[åa]r|slog|hotar|hotade|misshandla\w*|sparka\w*|v[åa]ldt\w*|tar struppen|stryper)",
        r"(hotad|hotat|slagen|misshandlad|sparkad|v[åa]ldtagen) av (min |mitt )?(sambo|man|make|fru|"
        r"pojkv[äa]n|flickv[äa]n|partner|ex|kille|tjej)\w*",
        r"v[åa]ld i (hemmet|n[äa]ra relation\w*)",
        r"r[äa]dd f[öo]r (min |mitt )?(sambo|man|make|fru|pojkv[äa]n|flickv[äa]n|partner|ex)\w*",
        r"v[åa]gar inte g[åa] hem",
        kind=K.PARTNER_VIOLENCE,
    ),
    _rules(
        C,
        "en",
        r"(husband|wife|boyfriend|girlfriend|partner|ex) (beats|hits|hit|threatens|threatened|"
        r"abuses|abused|hurts|choked|chokes)",
        r"domestic (violence|abuse)",
        r"afraid of my (husband|wife|boyfriend|girlfriend|partner|ex)",
        r"scared to go home",
        kind=K.PARTNER_VIOLENCE,
    ),
    _rules(
        C,
        "ar",
        r"زوجي (يضربني|ضربني|يهددني|هددني|يعنفني)",
        r"زوجتي (تضربني|تهددني)",
        r"(خايفه|خايف) من (زوجي|زوجتي|طليقي)",
        r"العنف (الاسري|المنزلي)",
        r"عنف اسري",
        kind=K.PARTNER_VIOLENCE,
        negatable=False,
    ),
    _rules(
        C,
        "so",
        r"(ninkayg|saygayg|seygayg|xaaskayg|naagtayd)\w* (ayaa |wuu |waa )?(i )?(garaac|garaaca|"
        r"garaacay|garaacaa|dila|dilaa|ku hanjab|igu hanjab)\w*",
        r"(ka )?baqayaa (ninkayga|saygayga|xaaskayga)",
        r"rabshad(da)? (guriga|qoyska)",
        kind=K.PARTNER_VIOLENCE,
        negatable=False,
    ),
    # ------------------------------------------------------------ crisis: violence, threats
    _rules(
        C,
        "sv",
        r"misshand\w*",
        r"mishand\w*",
        r"(?<!det )sl[åa]r mig",
        r"(?<!det )slog mig",
        r"sparka(r|de) mig",
        r"hot(ar|ad|ade|as|at|ades) (mig|oss|mina|mitt|min|att (d[öo]da|skada|sl[åa]))",
        r"(blivit|blev|[äa]r|varit|har) hotad\w*",
        r"hotad av",
        r"d[öo]dshot\w*",
        r"knivhot\w*",
        r"hot om v[åa]ld",
        r"våld\w*",
        r"v[åa]ldt[äa]kt\w*",
        r"v[åa]ldtagen",
        r"utsatt f[öo]r (v[åa]ld|hot)",
        r"n[åa]gon f[öo]rf[öo]ljer mig",
        r"r[äa]dd f[öo]r mitt liv",
        kind=K.VIOLENCE,
    ),
    _rules(
        C,
        "en",
        r"beat(s|en)? me",
        r"hits me",
        r"hit me",
        r"threaten(ed|s|ing)? (me|to kill|to hurt|my)",
        r"violen(ce|t)",
        r"abused",
        r"abusive",
        r"abuses? me",
        r"sexual abuse",
        r"assault\w*",
        r"rap(e|ed)",
        r"going to kill me",
        r"will kill me",
        r"afraid for my life",
        r"someone is following me",
        kind=K.VIOLENCE,
    ),
    _rules(
        C,
        "ar",
        r"يضربني",
        r"ضربني",
        r"تضربني",
        r"يهددني",
        r"هددني",
        r"يهددوني",
        r"\w*تهديد\w*",
        r"عنف",
        r"اعتداء",
        r"اعتدي علي",
        r"اغتصاب",
        r"اغتصبني",
        r"سيقتلني",
        r"خايفه على حياتي",
        r"خايف على حياتي",
        kind=K.VIOLENCE,
    ),
    _rules(
        C,
        "so",
        r"i garaac\w*",
        r"wuu i (garaacaa|dilaa|garaacay)",
        r"igu hanjab\w*",
        r"hanjabaad\w*",
        r"handadaad\w*",
        r"rabshad\w*",
        r"tacadi\w*",
        r"kufsi\w*",
        r"i dili doona",
        r"naftayda ayaan u baqayaa",
        kind=K.VIOLENCE,
    ),
    # ------------------------------------------------------------ crisis: acute illness
    _rules(
        C,
        "sv",
        r"akut sjuk",
        r"(mycket|j[äa]tte|sv[åa]rt|jatte) ?sjuk",
        r"ambulans",
        r"br[öo]stsm[äa]rt\w*",
        r"ont i br[öo]stet",
        r"kan inte andas",
        r"sv[åa]rt att andas",
        r"bl[öo]der (mycket|kraftigt)",
        r"medvetsl[öo]s",
        r"stroke",
        r"hj[äa]rtinfarkt",
        r"svimma(t|r|de)",
        r"[öo]verdos\w*",
        r"ligger p[åa] akuten",
        r"m[åa]ste till akuten",
        kind=K.ILLNESS,
    ),
    _rules(
        C,
        "en",
        r"(very|seriously|really) (ill|sick)",
        r"chest pain",
        r"can ?t breathe",
        r"cannot breathe",
        r"ambulance",
        r"overdos\w*",
        r"emergency room",
        r"heart attack",
        r"bleeding (a lot|heavily)",
        r"passed out",
        r"fainted",
        kind=K.ILLNESS,
    ),
    _rules(
        C,
        "ar",
        r"مريض(ه)? جدا",
        r"لا استطيع التنفس",
        r"ما اقدر اتنفس",
        r"الم (في|ب) (الصدر|صدري)",
        r"اسعاف",
        r"نزيف",
        r"(في|الى) الطوارئ",
        r"جلطه",
        r"اغمي علي",
        kind=K.ILLNESS,
    ),
    _rules(
        C,
        "so",
        r"aad (baan |ayaan )?u (xanuunsanahay|bukaa|buka|jiranahay)",
        r"neefsan (kari|karin|waayay)\w*",
        r"laabta (ayaa )?i xanuun\w*",
        r"xanuun laabta",
        r"ambalaas\w*",
        r"gurmad degdeg\w*",
        r"miyir (beelay|la aan)",
        kind=K.ILLNESS,
    ),
    # ------------------------------------------------------------ crisis: eviction, homelessness
    _rules(
        C,
        "sv",
        r"vr[äa]k(ning\w*|t|ta|tes|as|a|er)",
        r"avhys\w*",
        r"(kastas|sl[äa]ngs|kastad|sl[äa]ngd) ut",
        r"(f[öo]rlorar|f[öo]rlora|mister) (min|v[åa]r) (l[äa]genhet|bostad)",
        r"uppsagd fr[åa]n (l[äa]genheten|bostaden)",
        r"hemm?l[öo]s",
        r"bostadsl[öo]s",
        r"sover ute",
        r"ingenstans att (bo|sova|ta v[äa]gen)",
        r"hyresskuld\w*",
        kind=K.EVICTION,
    ),
    _rules(
        C,
        "en",
        r"evict\w*",
        r"homeless",
        r"(kicked|thrown) out (of|from) (my|our|the) (flat|apartment|home|house)",
        r"nowhere to (live|sleep|stay)",
        r"sleeping (outside|rough|on the street)",
        r"los(e|ing) (my|our) (flat|apartment|home)",
        kind=K.EVICTION,
    ),
    _rules(
        C,
        "ar",
        r"\w*يطردوننا",
        r"\w*يطردونني",
        r"\w*طردنا",
        r"\w*طردونا",
        r"طردوني",
        r"الطرد من (الشقه|البيت|السكن)",
        r"اخلاء",
        r"بلا ماوي",
        r"مشرد\w*",
        r"انام في الشارع",
        r"(ليس لدي|ما عندي|لا يوجد لدي) (سكن|بيت)",
        kind=K.EVICTION,
    ),
    _rules(
        C,
        "so",
        r"guriga (ayaa )?(la(ga)? i(ga)? saar\w*|laga saar\w*|naga saar\w*)",
        r"la iga saarayaa",
        r"hoy ?la ?aan\w*",
        r"guri ma (lihi|lihin|haysto)",
        r"waddada (ayaan |baan )?(seexd|seexan)\w*",
        kind=K.EVICTION,
    ),
    # ------------------------------------------------------------ crisis: no food
    _rules(
        C,
        "sv",
        r"ingen mat",
        r"inget att [äa]ta",
        r"har inte [äa]tit",
        r"sv[äa]lt\w*",
        r"(barnen|vi|jag|ungarna) [äa]r hungriga?",
        r"hungriga barn",
        r"inte r[åa]d med mat",
        r"inga pengar (till|f[öo]r) mat",
        r"tomt i kylen",
        kind=K.NO_FOOD,
        negatable=False,
    ),
    _rules(
        C,
        "en",
        r"no food",
        r"nothing to eat",
        r"haven ?t eaten",
        r"can ?t afford food",
        r"starving",
        r"(kids|children) are hungry",
        r"hungry (kids|children)",
        r"no money for food",
        kind=K.NO_FOOD,
        negatable=False,
    ),
    _rules(
        C,
        "ar",
        r"لا يوجد (طعام|اكل)",
        r"ليس لدينا (طعام|اكل)",
        r"ما عندنا (اكل|طعام)",
        r"ما في اكل",
        r"جوعان\w*",
        r"جايع\w*",
        r"جياع",
        r"لا نملك (طعام|ثمن الطعام)",
        kind=K.NO_FOOD,
        negatable=False,
    ),
    _rules(
        C,
        "so",
        r"cunto ma (haysano|hayno|hayo|haysto|lihin)",
        r"cunto la ?aan\w*",
        r"gaajaysan\w*",
        r"gaajo\w*",
        r"wax aan (cunno|cuno) ma (haysano|hayno)",
        kind=K.NO_FOOD,
        negatable=False,
    ),
    # ------------------------------------------------------------ crisis: help now, no reason given
    _rules(
        C,
        "sv",
        r"beh[öo]ver (akut )?hj[äa]lp (akut|nu|direkt|omedelbart|idag|i dag)",
        r"akut hj[äa]lp",
        kind=K.URGENT,
    ),
    _rules(C, "en", r"need (urgent )?help (now|urgently|immediately|today)", r"urgent help", kind=K.URGENT),
    _rules(C, "ar", r"(احتاج|اريد) مساعده (عاجله|الان|فورا)", r"مساعده عاجله", kind=K.URGENT),
    _rules(C, "so", r"caawimaad degdeg\w*", r"gargaar degdeg\w*", kind=K.URGENT),
    # ------------------------------------------------------------ call me
    _rules(
        R,
        "sv",
        r"ring(a|er)? (upp )?(mig|mej|mig tack)",
        r"rign mig",
        r"rimg mig",
        r"ringmig",
        r"ringa mej",
        r"kan (ni|du|n[åa]gon) ring(a|e)",
        r"ring tillbaka",
        r"(vill|kan|skulle) (ni|du) ring(a|e)",
        r"vill att (ni|du|n[åa]gon) ring(er|a)",
        r"vill bli uppringd",
        r"(sn[äa]lla|g[äa]rna) ring",
        r"(vill|beh[öo]ver|m[åa]ste|skulle vilja) (prata|tala) med (n[åa]gon|en (m[äa]nniska|handl[äa]ggare|person)|er|dig|min handl[äa]ggare)",
        r"kontakta mig",
        r"h[öo]r av (er|dig)( till mig)?",
    ),
    _rules(
        R,
        "en",
        r"call me",
        r"ring me",
        r"phone me",
        r"give me a (call|ring)",
        r"call me back",
        r"(can|could|would) (you|someone|somebody|anyone) (please )?(call|phone|ring)",
        r"(please|pls) (call|phone|ring)",
        r"talk to (someone|somebody|a person|a human)",
        r"contact me",
    ),
    _rules(
        R,
        "ar",
        r"(ا|ت|ي)?تصل(وا|و|ي)? (بي|علي)",
        r"الاتصال بي",
        r"كلموني",
        r"كلمني",
        r"رنوا علي",
        r"رن علي",
        r"اتكلم مع (احد|شخص|موظف)",
        r"اريد التحدث مع (احد|شخص|موظف)",
        r"تواصلوا معي",
    ),
    _rules(
        R,
        "so",
        r"i(i)? ?soo wac(a|o)?",
        r"i wac(a)?",
        r"(in|inaad|in la) i soo wac\w*",
        r"ila soo xiriir\w*",
        r"igala soo xiriir\w*",
        r"la hadlo qof",
        r"qof (aan )?la hadlo",
        r"i(i)? ?soo wici (kartaa|kartaan|karaan|doontaa|doontaan|kara)",
    ),
    # ------------------------------------------------------------ opt out (beyond the STOPP keyword)
    _rules(
        OPT,
        "sv",
        r"vill inte (ha|f[åa]) ((fler|flera|mer|n[åa]gra|era) ){0,2}(sms|meddelanden|m[äa]ss)\w*",
        r"sluta (skicka|smsa|sms a|messa|kontakta)\w*",
        r"inga (fler|mer) (sms|meddelanden)\w*",
        r"avregistrera\w*",
        r"ta bort (mitt nummer|mig)",
        r"stoppa (sms|smsen|meddelandena)",
        r"^(stopp|sluta|avsluta|avbryt)( (tack|nu|sn[äa]lla|sms))*$",
    ),
    _rules(
        OPT,
        "en",
        r"stop (please|pls|it|now|texting|sending|messaging|this)",
        r"please stop",
        r"^stop\b",
        r"unsubscribe",
        r"opt ?out",
        r"no more (texts|messages|sms)",
        r"(dont|don t|do not) (text|message|sms) me",
        r"remove me",
        r"leave me alone",
        r"(dont|don t|do not) want (any )?(more )?(texts|messages|sms)",
        negatable=False,
    ),
    _rules(
        OPT,
        "ar",
        r"^(توقف|توقفوا|اوقف|اوقفوا|قف)( الان| من فضلك| رجاء| الرسايل)*$",
        r"(توقفوا|توقف|اوقفوا|اوقف) (عن )?(ارسال|الارسال|الرسايل)\w*",
        r"لا (اريد|ارغب في) (اي )?(رسايل|الرسايل)\w*",
        r"لا ترسلوا( لي)?",
        r"الغاء الاشتراك",
        r"كفي رسايل",
        r"ايقاف( الرسايل)?",
    ),
    _rules(
        OPT,
        "so",
        r"^jooji(ya|yo|sa)?( fadlan| hadda)*$",
        r"jooji(ya)? (fariimaha|farriimaha|sms\w*)",
        r"iga jooji\w*",
        r"ha ii soo dirin",
        r"ha i soo dirin",
        r"ma (rabo|doonayo) fariim\w*",
        r"fariimo dambe ha\w*",
    ),
)
