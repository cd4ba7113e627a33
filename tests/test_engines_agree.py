"""Property: on random data sets and random rules, the SQL compiler and the reference
interpreter give exactly the same results (empty groups, boundary dates, values equal to a
threshold, missing incomes, QPV that left the list included)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from checker.evaluate import definitions
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.report.json_report import results_block
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.bundles import BAILLEUR_A, BAILLEUR_B, BAILLEUR_C, dwelling, household

DWELLINGS = [
    dwelling("L1", BAILLEUR_A),
    dwelling("L2", BAILLEUR_A, qpv="QN08001M"),
    dwelling("L3", BAILLEUR_B, commune="80902", qpv="QP080099"),
    dwelling("L4", BAILLEUR_C, commune="80902"),
]
# A list that changes in mid-year: the evaluator then matches each lease with the QPV in force
# on its date instead of looking the QPV up by dwelling (see base.qpv_list_fixed).
TERRITORY_MID_YEAR = bundles.TERRITORY.replace(
    "valide_du: 2024-01-01, valide_au: null", "valide_du: 2024-06-16, valide_au: null"
).replace(
    "valide_du: 2015-01-01, valide_au: 2023-12-31", "valide_du: 2015-01-01, valide_au: 2024-06-15"
)
assert TERRITORY_MID_YEAR.count("2024-06-1") == 2
# Around the boundaries: the year's edges, the QPV list change, thresholds 8 957 € / 9 180 €.
DATES = ["31/12/2023", "01/01/2024", "15/06/2024", "31/12/2024", "01/01/2025", ""]
INCOMES = ["", "0", "746,41", "746,42", "1343,55", "765", "1377", "3000"]

ATOMS = [
    "premier_quartile",
    "relogement_urbain",
    "revenus_mensuels * 12 / unites_consommation < seuil_q1[epci: epci.siren_arrete]",
    "revenus_mensuels * 12 / unites_consommation >= seuil_q1[epci: epci.siren_arrete] * 2",
    "revenus_mensuels est renseigné",
    "nb_moins_14 >= 1",
    "dalo",
    "mutation",
    "en_qpv",
    'criteres_prioritaires contient "c"',
    "contingent = etat_prioritaires",
    "relogement = anru",
    "annee(date_bail) = 2024",
    "date_bail >= 01/01/2024",
    "min(revenus_mensuels, 1000 €) < 800 €",
    "si dalo alors nb_titulaires > 1 sinon nb_moins_14 = 0",
    "revenus_mensuels / (nb_titulaires - 1) > 100 €",
    "revenus_mensuels / (nb_titulaires - 2) < 100 €",
    "unites_consommation * 10 = 18",
    "relogement != orcod",
    "nb_titulaires dans (1, 3)",
    'qpv = "QN08001M"',
    'reservataire != "AL"',
    "criteres_prioritaires est renseigné",
    'criteres_prioritaires contient l\'un de ("a" à "c")',
    'criteres_prioritaires contient l\'un de ("b", "d" à "m")',
    "revenus_mensuels < plafond_essai",
    "date_bail <= limite_essai",
    # The applicant's age, professional situation and housing before (optional, often unknown).
    "age_demandeur < 30",
    "age_demandeur >= 65",
    "age_demandeur est renseigné",
    "situation_professionnelle = cdi",
    "situation_professionnelle dans (chomage, etudiant)",
    "logement_actuel = sans_abri",
    "logement_actuel != locataire_hlm",
    "logement_actuel est renseigné",
]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.sampled_from(["et", "ou", "non"]))
    if kind == "non":
        return f"non ({draw(conditions(depth - 1))})"
    return f"({draw(conditions(depth - 1))}) {kind} ({draw(conditions(depth - 1))})"


@st.composite
def households(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(min_value=0, max_value=14))
    rows = []
    for number in range(count):
        rows.append(household(
            number,
            *draw(st.sampled_from([(BAILLEUR_A, "L1"), (BAILLEUR_A, "L2"), (BAILLEUR_B, "L3"), (BAILLEUR_C, "L4")])),
            draw(st.sampled_from(DATES)),
            draw(st.sampled_from(INCOMES)),
            titulaires=draw(st.integers(1, 2)),
            plus_14=draw(st.integers(0, 1)),
            moins_14=draw(st.integers(0, 2)),
            relogement=draw(st.sampled_from(["", "", "anru", "orcod"])),
            dalo=draw(st.sampled_from(["oui", "non"])),
            criteres=draw(st.sampled_from(["", "c", "a|c", "d"])),
            contingent=draw(st.sampled_from(["non_reserve", "etat_prioritaires"])),
            mutation=draw(st.sampled_from(["oui", "non"])),
            # Around the boundaries of the atoms above, with the SNE's codes and labels.
            age=draw(st.sampled_from(["", "16", "29", "30", "64", "65", "120"])),
            situation=draw(st.sampled_from(["", "CDI", "cdi", "Chômage", "ETU", "retraite"])),
            logement=draw(st.sampled_from(["", "SD", "Logement HLM", "locataire_hlm", "CPE"])),
        ))  # fmt: skip
    return rows


RULE_TEMPLATE = """
règle TEST.ALEATOIRE
  titre "règle tirée au hasard"
  source "test" url "https://exemple.invalid"
  version du 01/01/2017
    source "test" url "https://exemple.invalid"
    soit plafond_essai = 800 €
    soit limite_essai = 15/06/2024
    parmi les attributions où {where}
    par epci
    par epci, bailleur pour information
    par bailleur sur l'ensemble des territoires
    par contingent sur l'ensemble des territoires pour information
    exiger une part d'au moins {target} vérifiant {condition}
    sauf si {exception}
    aussi "variante" : {also}
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=households(),
    where=conditions(depth=1),
    condition=conditions(),
    exception=conditions(depth=0),
    also=conditions(depth=1),
    target=st.sampled_from(["0 %", "25 %", "50 %", "100 %"]),
    year=st.sampled_from([2023, 2024, 2025]),
    territory=st.sampled_from([bundles.TERRITORY, TERRITORY_MID_YEAR]),
    # Every definition a column behind a fence, the usual mix, or every one written in.
    inline_limit=st.sampled_from([-1, definitions.INLINE_LIMIT, 10**9]),
)
def test_sql_and_interpreter_agree(rows: list[dict[str, str]], where: str, condition: str,
                                   exception: str, also: str, target: str, year: int,
                                   territory: str, inline_limit: int) -> None:  # fmt: skip
    _assert_agree(rows, where, condition, exception, also, target, year, territory, inline_limit)


def test_min_and_max_of_a_missing_value_are_unknown_in_both_engines() -> None:
    # Found by the property test: SQL's CASE picked the other argument when one was NULL, so
    # « min(revenus_mensuels, 1000 €) < 800 € » was false in SQL and unknown in the reference.
    rows = [household(1, BAILLEUR_A, "L1", "15/06/2024", ""),
            household(2, BAILLEUR_A, "L1", "16/06/2024", "700")]  # fmt: skip
    for condition in ("min(revenus_mensuels, 1000 €) < 800 €",
                      "max(800 €, revenus_mensuels) > 900 €"):  # fmt: skip
        _assert_agree(rows, "bail_signe", condition, "mutation", "dalo", "25 %", 2024,
                      bundles.TERRITORY, definitions.INLINE_LIMIT)  # fmt: skip


def _assert_agree(rows: list[dict[str, str]], where: str, condition: str, exception: str,
                  also: str, target: str, year: int, territory: str,
                  inline_limit: int) -> None:  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        rules = work / "regles"
        shutil.copytree(rules_dir(), rules)
        text = RULE_TEMPLATE.format(where=where, condition=condition, exception=exception,
                                    also=also, target=target)  # fmt: skip
        (rules / "aleatoire.regles").write_text(text, encoding="utf-8")
        rulebook, _ = require_rules([rules])
        url = f"sqlite:///{work / 'test.db'}"
        import_bundle([bundles.write_bundle(work / "lot", DWELLINGS, rows, territory)], url)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                period = Period.year(year)
                evaluator = Evaluator(connection, rulebook, period, Options())
                assert evaluator.qpv_list_fixed == (territory == bundles.TERRITORY or year != 2024)
                with patch.object(definitions, "INLINE_LIMIT", inline_limit):
                    fast = results_block(evaluator.evaluate())
                slow = results_block(
                    ReferenceEvaluator(connection, rulebook, period, Options()).evaluate()
                )
        finally:
            engine.dispose()
        assert fast == slow


# The peuplement populations: residences (with their latest survey), OPS surveys and NPNRU
# rehousing, on random surveys and rehousing rows around their boundaries (a survey of the
# year or not, no respondent, rehousing at the end of the year or after it, a destination in
# a QPV that left the list, first letting exactly five years before, missing amounts).
RESIDENCES = (
    # residence, bailleur, commune, dwellings
    ("RA", BAILLEUR_A, "80901", ("L1", "L2")),
    ("RB", BAILLEUR_B, "80902", ("L3",)),
    ("RC", BAILLEUR_C, "80902", ("L4",)),
)
FIRST_LETTINGS = ["01/01/1970", "15/06/2019", "16/06/2019", "01/01/2024"]
CLASSES = ["", "fragile", "tres_fragile", "equilibree"]
OPS_HEADER = (
    "annee_enquete;bailleur_siren;residence_id;menages_repondants;ressources_inf_20;"
    "ressources_20_40;ressources_40_60;ressources_60_100;ressources_sup_100;"
    "familles_monoparentales;personnes_seules;familles_nombreuses;titulaires_moins_30;"
    "titulaires_plus_65;beneficiaires_aide_logement;titulaires_emploi_stable;emmenages_recents"
)
REHOUSING_HEADER = (
    "operation_npnru;menage_id;bailleur_siren;rpls_id_origine;date_entree_operation;statut;"
    "date_relogement;rpls_id_destination;numero_unique;loyer_charges_avant;loyer_charges_apres;"
    "aide_logement_avant;aide_logement_apres"
)
PEUPLEMENT_ATOMS = {
    "residences": [
        "en_qpv",
        'classe_declaree = "fragile"',
        "classe_declaree est renseigné",
        "menages_repondants > 0",
        "annee_enquete = 2024",
        "(ressources_inf_20 + ressources_20_40) / menages_repondants >= 0,4",
        "(ressources_inf_20 + ressources_20_40) / menages_repondants"
        " - (ressources_inf_20_epci + ressources_20_40_epci) / menages_repondants_epci > 0,05",
        "familles_monoparentales * 4 >= menages_repondants",
        "nb_logements >= 2",
        "date_mise_en_service >= 01/01/2019",
    ],
    "occupations": [
        "en_qpv",
        "annee_enquete = 2024",
        "ressources_inf_20 * 5 > menages_repondants",
        "(ressources_inf_20 + ressources_20_40) / menages_repondants"
        " > (ressources_inf_20_epci + ressources_20_40_epci) / menages_repondants_epci",
        "personnes_seules >= familles_monoparentales",
        'classe_declaree = "tres_fragile"',
    ],
    "relogements": [
        "reloge",
        "reloge_definitif",
        "destination_en_qpv",
        "non destination_en_qpv",
        "autre_commune",
        "anciennete_destination < 5",
        "reste_a_charge_apres <= reste_a_charge_avant",
        "reste_a_charge_apres <= reste_a_charge_avant * 110 %",
        "par_attribution",
        "statut = sorti_parc_social",
        "date_relogement <= 31/12/2024",
        'operation = "OP1"',
    ],
}
PEUPLEMENT_TEMPLATE = """
règle TEST.PEUPLEMENT
  titre "règle tirée au hasard"
  source "test" url "https://exemple.invalid"
  version du 01/01/2017
    source "test" url "https://exemple.invalid"
    parmi les {entity} où {where}
    par epci
    par epci, {dimension}
    exiger une part d'au moins 50 % vérifiant {condition}
    aussi "variante" : {also}
"""


@st.composite
def peuplement_conditions(draw: st.DrawFn, entity: str, depth: int = 2) -> str:
    atoms = PEUPLEMENT_ATOMS[entity]
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(atoms))
    kind = draw(st.sampled_from(["et", "ou", "non"]))
    if kind == "non":
        return f"non ({draw(peuplement_conditions(entity, depth - 1))})"
    left = draw(peuplement_conditions(entity, depth - 1))
    return f"({left}) {kind} ({draw(peuplement_conditions(entity, depth - 1))})"


@st.composite
def peuplement_files(draw: st.DrawFn) -> dict[str, str]:
    residences = ["residence_id;bailleur_siren;nom;commune_insee;date_mise_en_service;classe_enjeu"]
    for ident, bailleur, commune, _ in RESIDENCES:
        residences.append(
            f"{ident};{bailleur};Résidence {ident};{commune};"
            f"{draw(st.sampled_from(FIRST_LETTINGS))};{draw(st.sampled_from(CLASSES))}"
        )
    surveys = [OPS_HEADER]
    for year in (2022, 2024, 2025):
        for ident, bailleur, _, _ in RESIDENCES:
            if not draw(st.booleans()):
                continue
            respondents = draw(st.integers(0, 6))
            counts = [draw(st.integers(0, respondents)) for _ in range(13)]
            low, mid = draw(st.integers(0, respondents)), 0
            mid = draw(st.integers(0, respondents - low))
            counts[0:5] = [low, mid, 0, 0, 0]
            surveys.append(";".join(map(str, [year, bailleur, ident, respondents, *counts])))
    rehousing = [REHOUSING_HEADER]
    for number in range(draw(st.integers(0, 8))):
        origin = draw(st.sampled_from(["L1", "L2", "L3"]))
        owner = BAILLEUR_B if origin == "L3" else BAILLEUR_A
        status = draw(st.sampled_from(["a_reloger", "reloge_definitif", "reloge_temporaire",
                                       "sorti_parc_social"]))  # fmt: skip
        date = destination = ""
        if status.startswith("reloge"):
            date = draw(st.sampled_from(["01/01/2024", "31/12/2024", "01/01/2025", "15/06/2024"]))
            destination = draw(
                st.sampled_from([d for d in ("L1", "L2", "L3", "L4") if d != origin])
            )
        link = draw(st.sampled_from(["", f"080012400{number:06d}TST01"]))
        amounts = [draw(st.sampled_from(["", "400", "450,50", "500"])) for _ in range(4)]
        rehousing.append(";".join([
            draw(st.sampled_from(["OP1", "OP2"])), f"M{number}", owner, origin, "01/03/2022",
            status, date, destination, link, *amounts,
        ]))  # fmt: skip
    return {
        "residences.csv": "\n".join(residences) + "\n",
        "occupation.csv": "\n".join(surveys) + "\n",
        "relogements.csv": "\n".join(rehousing) + "\n",
    }


def _linked_attributions(files: dict[str, str], rows: list[dict[str, str]]) -> None:
    """Make each rehousing row that names an attribution (numero_unique) name one the import
    accepts as the same household: on the destination dwelling, of its bailleur, decided on
    the rehousing day or before, marked anru (checker/ingest/rehousing_links.py). A row whose
    household was not drawn keeps no link."""
    owner = {"L1": BAILLEUR_A, "L2": BAILLEUR_A, "L3": BAILLEUR_B, "L4": BAILLEUR_C}
    lines = files["relogements.csv"].splitlines()
    for index, line in enumerate(lines[1:], start=1):
        cells = line.split(";")
        date, destination, link = cells[6], cells[7], cells[8]
        number = int(cells[1][1:])
        if not link or not destination:
            continue  # a household not rehoused yet: its link is not looked for
        if number >= len(rows):
            cells[8] = ""
        else:
            rows[number].update(bailleur_siren=owner[destination], rpls_id=destination,
                                date_decision=date, date_bail=date, relogement="anru")  # fmt: skip
        lines[index] = ";".join(cells)
    files["relogements.csv"] = "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    files=peuplement_files(),
    rows=households(),
    entity=st.sampled_from(["residences", "occupations", "relogements"]),
    year=st.sampled_from([2024, 2025]),
)
def test_sql_and_interpreter_agree_on_the_peuplement_populations(
    data: st.DataObject, files: dict[str, str], rows: list[dict[str, str]], entity: str,
    year: int,
) -> None:  # fmt: skip
    dimension = {"residences": "residence", "occupations": "bailleur",
                 "relogements": "operation"}[entity]  # fmt: skip
    text = PEUPLEMENT_TEMPLATE.format(
        entity=entity,
        where=data.draw(peuplement_conditions(entity, depth=1)),
        dimension=dimension,
        condition=data.draw(peuplement_conditions(entity)),
        also=data.draw(peuplement_conditions(entity, depth=1)),
    )
    attribution_rule = RULE_TEMPLATE.format(
        where='classe_residence = "fragile"', condition='residence = "RA"',
        exception="mutation", also="classe_residence est renseigné", target="25 %",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        rules = work / "regles"
        rules.mkdir()
        (rules / "aleatoire.regles").write_text(text + attribution_rule, encoding="utf-8")
        rulebook, _ = require_rules([rules])
        _linked_attributions(files, rows)
        bundle = bundles.write_bundle(work / "lot", DWELLINGS, rows)
        of_dwelling = {rpls: ident for ident, _, _, rpls_ids in RESIDENCES for rpls in rpls_ids}
        lines = (bundle / "logements.csv").read_text(encoding="utf-8").splitlines()
        lines = [lines[0].strip() + ";residence_id"] + [
            f"{line.strip()};{of_dwelling[line.split(';')[0]]}" for line in lines[1:]
        ]
        (bundle / "logements.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for name, content in files.items():
            (bundle / name).write_text(content, encoding="utf-8")
        url = f"sqlite:///{work / 'test.db'}"
        import_bundle([bundle], url)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                period = Period.year(year)
                fast = results_block(Evaluator(connection, rulebook, period, Options()).evaluate())
                slow = results_block(
                    ReferenceEvaluator(connection, rulebook, period, Options()).evaluate()
                )
        finally:
            engine.dispose()
        assert fast == slow
        assert any(result["rule"] == "TEST.PEUPLEMENT" for result in fast)
