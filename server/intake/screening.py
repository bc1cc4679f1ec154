"""Eligibility screening (低保标准核对): a form that computes income per person per month compares it, at
submission, with the standard in force on the visit's date for the household's community (server.people.standards).

The result is a flag for human review, never a decision: it goes into the household's situation (`eligibility`,
shown on the assistance ledger) and onto the submission as a `screening` flag, worded "低于…标准 X 元" or "不低于".
A form declares what to compare in its UI hints: {"screening": {"per_person", "date", "standard"}} (docs/forms.md).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import forms
from forms.logic import parse_date
from forms.pointers import resolve
from server.models import Area, Household
from server.people.standards import KINDS, in_force

# Cents of any income an answer can hold exactly: JSON integers reach 4,300 digits (Python's limit), doubles 309.
_EXACT = Context(prec=5000, rounding=ROUND_HALF_UP)


async def screen(form: forms.CompiledForm, household_id: uuid.UUID, data: Any) -> tuple[str, dict] | None:
    """(the situation's `eligibility` text, the submission's flag), or None when the form does not screen or the
    answers or a standard are missing (then nothing is said: no standard is no finding)."""
    rule = form.ui.get("screening") if isinstance(form.ui, dict) else None
    if not rule:
        return None
    try:
        income, when = resolve(data, rule["per_person"]), resolve(data, rule["date"])
    except LookupError:
        return None
    day = parse_date(when)
    if type(income) not in (int, float) or day is None:
        return None
    community = await Household.filter(id=household_id).values_list("community_id", flat=True)
    if not community:
        return None  # refused when it is stored
    area = await Area.get(id=community[0])
    standard = await in_force(area, rule["standard"], date(*day))
    if standard is None:
        return None
    name = KINDS[rule["standard"]]
    gap = _EXACT.quantize(_EXACT.subtract(standard.amount, Decimal(str(income))), Decimal("0.01"))
    amount = f"{standard.amount:.2f}"
    if gap > 0:
        text = f"低于{name} {gap:.2f} 元（人均月收入 {income} 元，标准 {amount} 元，{standard.effective_from} 起），待人工复核"
    else:
        text = f"不低于{name}（人均月收入 {income} 元，标准 {amount} 元，{standard.effective_from} 起），待人工复核"
    flag = {"kind": "screening", "pointer": f"/data{rule['per_person']}", "detail": text,
            "standard": float(standard.amount), "below_by": float(gap) if gap > 0 else 0}
    return text, flag
