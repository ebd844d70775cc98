"""The rule catalogue of `configs/quality_rules.yaml`, typed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from daam.config import read_yaml


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning
    kind: str  # gx | sql
    message_fr: str
    message_ar: str
    applies: dict
    title_fr: str = ""
    title_ar: str = ""
    fix_fr: str = ""
    fix_ar: str = ""

    def text(self, field: str, lang: str) -> str:
        """`field` (message, title, fix) in `lang` (fr, ar)."""
        return getattr(self, f"{field}_{lang}")


@cache
def rules() -> dict[str, Rule]:
    """Every rule of the catalogue by id."""
    doc = read_yaml("quality_rules.yaml")["rules"]
    return {
        rid: Rule(rid, r["severity"], r["kind"], r["message_fr"], r["message_ar"], r.get("applies", {}),
                  r["title_fr"], r["title_ar"], r["fix_fr"], r["fix_ar"])
        for rid, r in doc.items()
    }


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]
