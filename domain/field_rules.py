"""Completion status of each scored handoff field: specific (1.0), generic (0.5) or empty (0.0).

Explainable keyword/shape rules rather than a model, so an AE can read the reason,
fix the field and predict the new score.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from domain.document import Contact, FieldName, HandoffDocument, PartnerContext

SPECIFIC = 1.0
GENERIC = 0.5
EMPTY = 0.0


class CriteriaRule(StrEnum):
    """What earns success criteria full credit (policy `scoring.success_criteria`)."""

    # The seeds' rubric: a defined metric with a target value or a timeframe.
    TARGET_OR_TIMEFRAME = "target_or_timeframe"
    # Baton's first rule, kept for snapshots without the key: a target plus a timeframe or a comparison.
    TARGET_AND_TIMEFRAME = "target_and_timeframe"


class Judgement(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: float
    reason: str

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: float) -> float:
        if value not in (SPECIFIC, GENERIC, EMPTY):
            raise ValueError("status must be 1.0, 0.5 or 0.0")
        return value


_PLACEHOLDERS = (
    "tbd|tbc|tba|to be (?:determined|confirmed|decided)|n ?a|not applicable|none|nothing|null|nil"
    "|see (?:notes?|attached|attachment|crm|above|below|email|deck|sfdc|salesforce)|check crm"
    "|ask (?:ae|sales|rep|the ae)|same as above|as above|unknown|todo|to do|pending|wip|xxx|etc|later"
)
# Matches the normalised text only when it is entirely made of placeholder phrases.
_PLACEHOLDER_ONLY = re.compile(rf"^(?:(?:{_PLACEHOLDERS})\s*)*$")
_VAGUE = re.compile(
    r"\b(?:improv\w* (?:\w+ )?efficiency|increas\w* (?:\w+ )?productivity|sav\w* (?:\w+ )?time"
    r"|better visibility|improv\w* visibility|streamlin\w* (?:\w+ )?process\w*|digital transformation"
    r"|grow\w* (?:\w+ )?revenue|reduc\w* costs?|cut costs?|best practices?|drive (?:growth|value)"
    r"|improv\w* (?:the )?(?:customer )?experience)\b"
)
_WORD = re.compile(r"[A-Za-z0-9$€£%]+(?:['’./-][A-Za-z0-9%]+)*")

_NUM = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|eighteen|twenty-four|thirty-six)"
)
_UNIT = r"(?:days?|weeks?|months?|mos?|quarters?|years?|yrs?)"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s*(?:19|20)\d{{2}})?\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b(?:\s+(?:19|20)\d{{2}})?|{_MONTH}\s+(?:19|20)\d{{2}})"
)
# Dates come first in each alternation so their digits are consumed as time, not as targets.
_TIMEFRAME = re.compile(
    rf"{_DATE}"
    rf"|\b(?:within|in|over|during|after|for|first|next)\s+(?:the\s+)?(?:first\s+|next\s+)?"
    rf"{_NUM}\s*-?\s*{_UNIT}\b"
    rf"|\b(?:by|before|until|through)\s+(?:the\s+)?(?:end\s+of\s+)?(?:(?:the|this|next)\s+)?"
    rf"(?:{_DATE}|q[1-4]|h[12]|fy\s*'?\d{{2,4}}|(?:fiscal\s+)?(?:year|quarter|month|week)|{_MONTH}"
    rf"|(?:19|20)\d{{2}}"
    rf"|go-?live|launch|renewal|kick-?off)\b"
    rf"|\b(?:this|next|each|every|per)\s+(?:fiscal\s+)?(?:quarter|year|month|week)\b"
    rf"|\b(?:q[1-4]|h[12])(?:\s*(?:fy)?\s*'?\d{{2,4}})?\b|\bfy\s*'?\d{{2,4}}\b|\b(?:eoy|eoq|year[- ]end)\b",
    re.IGNORECASE,
)
_TARGET = re.compile(r"\d|\b(?:double|doubling|triple|tripling|halve|halving|twice|zero)\b", re.IGNORECASE)
_COMPARISON = re.compile(
    r"\bfrom\b.+\bto\b|\bat (?:least|most)\b|[<>]=?|≥|≤|\b(?:under|below|above|over|less than|more than"
    r"|fewer than|no more than|up to)\s+[$€£]?\d|\bto\s+[$€£]?\d",
    re.IGNORECASE,
)
_NO_RISK = re.compile(
    r"^\W*(?:none|nothing|no (?:known |major |real |significant )?(?:risks?|concerns?|issues?)"
    r"|low[- ]risk|standard risks?|minimal risks?)\b",
    re.IGNORECASE,
)
_RISK_REASON = re.compile(
    r"[;:]|\b(?:because|since|after|given|due to|confirmed|verified|reviewed|approved|signed off)\b",
    re.IGNORECASE,
)
_PRODUCT_WORD = re.compile(
    r"\b(?:enterprise|pro|professional|premium|starter|ultimate|tier|plan|module|modules"
    r"|edition|add-?on|sku|seats?|licen[cs]es?|users)\b|\b\d+\s*(?:seats?|licen[cs]es?|users|agents)\b",
    re.IGNORECASE,
)
_TERM_LENGTH = re.compile(
    rf"\b{_NUM}\s*-?\s*(?:months?|mos?|years?|yrs?)\b|\b(?:annual|multi-?year|month-to-month)\b", re.IGNORECASE
)
_BILLING = re.compile(
    rf"{_DATE}|\b(?:monthly|quarterly|annually|yearly|semi-?annually)\b|\bnet\s*-?\s*\d+\b"
    r"|\bup-?\s?front\b|\bin (?:advance|arrears)\b|\brenews\b|\bauto-?renew\w*",
    re.IGNORECASE,
)
_CHANNEL = re.compile(
    r"\b(?:e-?mail|slack|(?-i:Teams)|ms teams|microsoft teams|phone|zoom|calls?|in[- ]person|on-?site"
    r"|google meet|webex|video|sms|text messages?|whatsapp)\b",
    re.IGNORECASE,
)
_CADENCE = re.compile(
    r"\b(?:daily|weekly|bi-?weekly|fortnightly|monthly|quarterly|every\s+(?:other\s+)?(?:day|week|month|\w+day)"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|mornings?|afternoons?|evenings?|(?:business|office) hours"
    r"|(?:after|before)\s+\d{1,2}|\d{1,2}(?::\d{2})?\s*(?:am|pm)|no (?:calls|meetings)|out of (?:the )?office"
    r"|(?-i:OOO)|on leave|vacation|time ?zone|(?:utc|gmt)(?:\s*[+-]\d{1,2})?"
    r"|(?-i:[ECMP][SD]?T|CES?T|BST|IST|AES?T|SGT|JST))\b",
    re.IGNORECASE,
)


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def is_placeholder(text: str) -> bool:
    """True for non-blank text that carries no content: placeholder tokens ("TBD", "see notes",
    "-", "?") or a bare boilerplate phrase ("improve efficiency"). Blank text is empty, not a
    placeholder, so callers can tell "never filled" from "filled with filler"."""
    if not text.strip():
        return False
    norm = _normalise(text)
    return bool(_PLACEHOLDER_ONLY.fullmatch(norm)) or bool(_VAGUE.fullmatch(norm))


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def filled(text: str) -> bool:
    """Text with content: neither blank nor a placeholder ("TBD", "see notes")."""
    return bool(text.strip()) and not is_placeholder(text)


def _screen(text: str, label: str, hint: str, min_words: int = 0) -> Judgement | None:
    """Rules shared by every text field; None means the field-specific rule decides."""
    if not text.strip():
        return Judgement(status=EMPTY, reason=f"No {label} entered; {hint}.")
    if is_placeholder(text):
        shown = text.strip()[:40]
        reason = f"Only placeholder or boilerplate text ({shown!r}) in {label}; {hint}."
        return Judgement(status=GENERIC, reason=reason)
    if _words(text) < min_words:
        reason = f"Too little detail in {label} (under {min_words} words); {hint}."
        return Judgement(status=GENERIC, reason=reason)
    return None


def _measurable(text: str, label: str, comparison_counts: bool) -> Judgement:
    """Goals and success criteria are judged on whether CS can later verify them: a number that
    is not merely part of a date, plus a timeframe (for criteria, a comparison also anchors it)."""
    anchor = "timeframe or comparison" if comparison_counts else "timeframe"
    second = f"a {anchor}"
    hint = f"state a measurable target and {second}"
    if found := _screen(text, label, hint, min_words=4):
        return found
    target = bool(_TARGET.search(_TIMEFRAME.sub(" ", text)))
    timed = bool(_TIMEFRAME.search(text)) or (comparison_counts and bool(_COMPARISON.search(text)))
    if target and timed:
        return Judgement(status=SPECIFIC, reason=f"The {label} have a measurable target and {second}.")
    checks = (("target", "a measurable target", target), (anchor, second, timed))
    gaps = [(gap, need) for gap, need, ok in checks if not ok]
    missing = " and ".join(f"no {gap}" for gap, _ in gaps)
    vague = _VAGUE.search(_normalise(text))
    lead = f"Boilerplate ({vague.group(0)!r}) with {missing}" if vague and not target else missing.capitalize()
    return Judgement(status=GENERIC, reason=f"{lead} in {label}; add {' and '.join(need for _, need in gaps)}.")


def _goals(doc: HandoffDocument) -> Judgement:
    """Full credit needs a number to hit and a time to hit it by."""
    return _measurable(doc.goals, "goals", comparison_counts=False)


def _success_criteria(doc: HandoffDocument, rule: CriteriaRule) -> Judgement:
    """The rubric: a defined metric with a target value or a timeframe ("Adoption: 80% of seats
    active", "Reduce the ticket backlog by the end of Q2"). Boilerplate ("reduce costs") is no defined
    metric, so a timeframe alone does not lift it; a target value does. The older rule asks for a
    target plus a timeframe or a comparison ("from X to Y", "at least", "under 2")."""
    if rule is CriteriaRule.TARGET_AND_TIMEFRAME:
        return _measurable(doc.success_criteria, "success criteria", comparison_counts=True)
    text, label = doc.success_criteria, "success criteria"
    hint = "name the metric with a target value or a timeframe"
    if found := _screen(text, label, hint, min_words=4):
        return found
    target = bool(_TARGET.search(_TIMEFRAME.sub(" ", text)))
    timed = bool(_TIMEFRAME.search(text))
    vague = _VAGUE.search(_normalise(text))
    if target:
        return Judgement(status=SPECIFIC, reason=f"The {label} name a metric with a target value.")
    if timed and not vague:
        return Judgement(status=SPECIFIC, reason=f"The {label} name a metric with a timeframe.")
    if vague:
        shown = vague.group(0)
        lead = f"Boilerplate ({shown!r}) is no defined metric" + (" even with a timeframe" if timed else "")
        return Judgement(status=GENERIC, reason=f"{lead} in {label}; {hint}.")
    return Judgement(status=GENERIC, reason=f"No target value or timeframe in {label}; {hint}.")


def _join(items: list[str]) -> str:
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


def _missing_parts(contact: Contact) -> list[str]:
    parts = {"title": contact.title, "role": contact.role.value if contact.role else "", "notes": contact.notes}
    return [part for part, value in parts.items() if not filled(value)]


_NEEDED_CONTACTS = "at least 3 contacts with name, title, role and notes"


def _stakeholders(doc: HandoffDocument) -> Judgement:
    """Three fully described contacts (name, title, role, notes) let CS multithread from day one."""
    named = [c for c in doc.stakeholders if filled(c.name)]
    if not named:
        return Judgement(status=EMPTY, reason=f"No named stakeholders; add {_NEEDED_CONTACTS}.")
    complete = [c for c in named if not _missing_parts(c)]
    if len(complete) >= 3:
        return Judgement(status=SPECIFIC, reason=f"{len(complete)} contacts have name, title, role and notes.")
    gaps = [f"{c.name.strip()} lacks {_join(_missing_parts(c))}" for c in named if _missing_parts(c)][:3]
    if len(named) < 3:
        more = 3 - len(named)
        gaps.append(f"add {more} more contact{'s' if more > 1 else ''} with name, title, role and notes")
    return Judgement(status=GENERIC, reason=f"{len(complete)} of 3 contacts complete; {'; '.join(gaps)}.")


def _risks(doc: HandoffDocument) -> Judgement:
    """A concrete concern in at least 6 words; "no risks" counts only when it says why, since a
    seller who saw no risk should still say what was checked."""
    hint = "name the concrete concern (or why there is none) in at least 6 words"
    if found := _screen(doc.risks, "risks", hint, min_words=6):
        return found
    if _NO_RISK.search(doc.risks) and not _RISK_REASON.search(doc.risks):
        reason = "Risks claim none without saying why; state what was checked or name the concern."
        return Judgement(status=GENERIC, reason=reason)
    return Judgement(status=SPECIFIC, reason="Risks name a concrete concern or justify why there is none.")


def _has_product_token(text: str) -> bool:
    if _PRODUCT_WORD.search(text):
        return True
    # A capitalised word mid-sentence is most likely a product or integration name ("Salesforce", "SSO").
    return any(
        any(word[0].isupper() for word in _WORD.findall(sentence)[1:]) for sentence in re.split(r"[.!?;:\n]+", text)
    )


def _scope(doc: HandoffDocument) -> Judgement:
    """Exact products, tiers, modules or seat counts in at least 4 words."""
    hint = "name the exact products, tiers, modules or seat counts"
    if found := _screen(doc.scope, "scope", hint, min_words=4):
        return found
    if _has_product_token(doc.scope):
        return Judgement(status=SPECIFIC, reason="Scope names products, tiers, modules or seat counts.")
    return Judgement(status=GENERIC, reason=f"No product, tier, module or seat count in scope; {hint}.")


def _sales_conversations(doc: HandoffDocument) -> Judgement:
    """A real commitment (4+ words) plus at least one objection or concession that gives it context."""
    talk = doc.sales_conversations
    commitments = [e for e in talk.commitments if filled(e)]
    others = [e for e in talk.objections + talk.concessions if filled(e)]
    if not commitments and not others:
        entered = [e for e in talk.commitments + talk.objections + talk.concessions if e.strip()]
        if entered:
            # Filled with "See notes" and the like: generic, as a placeholder is in every other field.
            shown = entered[0].strip()[:40]
            reason = f"Only placeholder or boilerplate text ({shown!r}) in sales conversations; add what was promised and why."
            return Judgement(status=GENERIC, reason=reason)
        reason = "No commitments, objections or concessions recorded; add what was promised and why."
        return Judgement(status=EMPTY, reason=reason)
    missing = []
    if not any(_words(e) >= 4 for e in commitments):
        missing.append("a commitment of at least 4 words")
    if not others:
        missing.append("an objection or concession")
    if not missing:
        reason = "Sales conversations record commitments with objections or concessions."
        return Judgement(status=SPECIFIC, reason=reason)
    return Judgement(status=GENERIC, reason=f"Sales conversations need {' and '.join(missing)}.")


def _two_part(text: str, label: str, parts: tuple[tuple[str, re.Pattern[str]], ...]) -> Judgement:
    wanted = " and ".join(name for name, _ in parts)
    if found := _screen(text, label, f"state {wanted}"):
        return found
    missing = [name for name, pattern in parts if not pattern.search(text)]
    if not missing:
        return Judgement(status=SPECIFIC, reason=f"The {label} state {wanted}.")
    return Judgement(status=GENERIC, reason=f"The {label} need {' and '.join(missing)}.")


def _contract_terms(doc: HandoffDocument) -> Judgement:
    """Term length plus when it renews or how it is billed, so CS can plan the renewal motion."""
    parts = (("a term length", _TERM_LENGTH), ("a renewal date or billing schedule", _BILLING))
    return _two_part(doc.contract_terms, "contract terms", parts)


def _communication_preferences(doc: HandoffDocument) -> Judgement:
    """A channel plus a cadence or availability constraint, so the first outreach lands."""
    parts = (("a channel", _CHANNEL), ("a cadence or availability", _CADENCE))
    return _two_part(doc.communication_preferences, "communication preferences", parts)


def _partner_parts(context: PartnerContext) -> dict[str, bool]:
    contact = context.partner_contact
    return {
        "the partner's ongoing contact": contact is not None and filled(contact.name),
        "the partner's implementation plan": filled(context.implementation_plan),
        "the support tier": filled(context.support_tier),
        "the partner's engagement model": filled(context.engagement_model),
        "whether end-customer contacts are shared": context.end_customer_contacts_shared is not None,
    }


def _partner_context(doc: HandoffDocument) -> Judgement:
    """The partner template: who at the partner stays the contact, their implementation plan, the
    support tier, how they want to work with us, and whether the end customer's contacts are shared."""
    parts = _partner_parts(doc.partner_context or PartnerContext())
    present = [label for label, ok in parts.items() if ok]
    missing = [label for label, ok in parts.items() if not ok]
    if not present:
        return Judgement(status=EMPTY, reason=f"No partner context entered; name {_join(missing)}.")
    if missing:
        return Judgement(status=GENERIC, reason=f"Partner context lacks {_join(missing)}.")
    return Judgement(
        status=SPECIFIC, reason="Partner contact, plan, support tier, engagement model and sharing stated."
    )


_RULES: dict[FieldName, Callable[[HandoffDocument], Judgement]] = {
    FieldName.GOALS: _goals,
    FieldName.STAKEHOLDERS: _stakeholders,
    FieldName.RISKS: _risks,
    FieldName.SCOPE: _scope,
    FieldName.SALES_CONVERSATIONS: _sales_conversations,
    FieldName.CONTRACT_TERMS: _contract_terms,
    FieldName.COMMUNICATION_PREFERENCES: _communication_preferences,
    FieldName.PARTNER_CONTEXT: _partner_context,
}


def judge(
    field: FieldName, document: HandoffDocument, criteria: CriteriaRule = CriteriaRule.TARGET_AND_TIMEFRAME
) -> Judgement:
    """`criteria`: the policy's rule for success criteria (the default is the one snapshots without
    the key were scored by; a policy made now carries the rubric's)."""
    field = FieldName(field)
    if field is FieldName.SUCCESS_CRITERIA:
        return _success_criteria(document, CriteriaRule(criteria))
    return _RULES[field](document)


def judge_all(
    document: HandoffDocument, criteria: CriteriaRule = CriteriaRule.TARGET_AND_TIMEFRAME
) -> dict[FieldName, Judgement]:
    return {field: judge(field, document, criteria) for field in FieldName}
