"""The CALEOL docket check as a document: self-contained HTML and an Excel workbook."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction
from typing import Any

from jinja2 import Environment, select_autoescape
from openpyxl import Workbook

from checker import __version__, frenchfmt
from checker.caleol_check import Dwelling, Effect
from checker.report.labels import STATUS_LABELS
from checker.report.xlsx import _sheet_name, _table

_TEMPLATE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Dossier de CALEOL du {{ day }}</title>
<style>
body { font-family: system-ui, Arial, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #212121; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1.2rem; font-size: .9rem; }
th, td { border: 1px solid #e0e0e0; padding: .3rem .5rem; text-align: left; vertical-align: top; } th { background: #f5f5f5; }
.conforme { color: #2e7d32; font-weight: 600; } .non_conforme { color: #c62828; font-weight: 600; } .donnees_insuffisantes { color: #8d6e00; font-weight: 600; }
.note { color: #616161; font-size: .85rem; }
@media print { h2 { page-break-before: always; } h2:first-of-type { page-break-before: avoid; } }
</style></head><body>
<h1>Vérification du dossier de CALEOL</h1>
<p class="note">Situation des objectifs au {{ day }} (attributions depuis le 1er janvier) — mixite {{ version }}. Candidats désignés par la fin de leur numéro unique.</p>
{% for d in dwellings %}
<h2>Logement {{ d.rpls_id }} — {{ d.financement_label }}, {{ "en QPV" if d.in_qpv else "hors QPV" }} — commission du {{ fmt_date(d.commission) }}</h2>
<p>{{ d.applications }} candidature(s). {% for rule, status, detail in d.verdicts %}<span class="{{ status }}">{{ rule }} : {{ label(status) }}</span> ({{ detail }}) {% endfor %}</p>
<table><thead><tr><th>Candidature</th><th>Vérifications</th><th>Effet sur les objectifs du bailleur</th></tr></thead><tbody>
{% for a in d.applicants %}
<tr><td>{{ "rang " ~ a.rank if a.rank else "sans rang" }}<br><span class="note">n° {{ a.reference }}</span></td>
<td>{% for topic, verdict, detail in a.checks %}{{ topic }} : <span class="{{ verdict }}">{{ label(verdict) }}</span>{% if detail %} ({{ detail }}){% endif %}<br>{% endfor %}</td>
<td>{% for e in a.effects if e.after is not none and e.target is not none %}{{ effect(e) }}<br>{% endfor %}</td></tr>
{% endfor %}
</tbody></table>
{% endfor %}
</body></html>
"""


def _rate(value: Fraction | None) -> str:
    return frenchfmt.percent(value) if value is not None else "—"


def describe(effect: Effect) -> str:
    mark = "compte" if effect.counted else "ne compte pas"
    if effect.bound == "min":
        rest = (
            f"encore {effect.still_needed} à trouver d'ici le 31 décembre"
            if effect.still_needed
            else "objectif atteint"
        )
        goal = f"cible {_rate(effect.target)}"
    else:
        rest = f"le plafond en admet encore {effect.still_needed}"
        goal = f"plafond {_rate(effect.target)}"
    return f"{effect.rule} : {_rate(effect.before)} → {_rate(effect.after)} ({goal}) ; cette attribution {mark} ; {rest}"


def to_html(dwellings: list[Dwelling], day: dt.date) -> str:
    environment = Environment(autoescape=select_autoescape(default=True))
    template = environment.from_string(_TEMPLATE)
    return template.render(dwellings=dwellings, day=frenchfmt.date(day), version=__version__,
                           fmt_date=frenchfmt.date, label=lambda s: STATUS_LABELS.get(s, s), effect=describe)  # fmt: skip


def to_xlsx(dwellings: list[Dwelling]) -> bytes:
    workbook = Workbook()
    used: set[str] = set()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _sheet_name("Logements", used)
    _table(sheet, ["Logement", "Commission", "Financement", "QPV", "Candidatures", "Règle", "Statut", "Détail"],
           [[d.rpls_id, d.commission, d.financement_label, "oui" if d.in_qpv else "non", d.applications, rule,
             STATUS_LABELS.get(status, status), detail] for d in dwellings for rule, status, detail in d.verdicts],
           set())  # fmt: skip
    rows: list[list[Any]] = []
    for d in dwellings:
        for a in d.applicants:
            checks = {topic: STATUS_LABELS.get(verdict, verdict) for topic, verdict, _ in a.checks}
            effects = " | ".join(
                describe(e) for e in a.effects if e.after is not None and e.target is not None
            )
            rows.append([d.rpls_id, a.rank, a.reference, *checks.values(), effects])
    topics = (
        [topic for topic, _, _ in d.applicants[0].checks]
        if dwellings and dwellings[0].applicants
        else []
    )
    candidates = workbook.create_sheet(_sheet_name("Candidatures", used))
    _table(
        candidates,
        ["Logement", "Rang", "N° (fin)", *topics, "Effet sur les objectifs"],
        rows,
        set(),
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
