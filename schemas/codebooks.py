"""The codebook of an instrument or a study, in German or English, as Markdown or
self-contained HTML.

Everything comes from the declaration: variables in questionnaire order with their question
text, type, codes and labels, accepted missing codes, skip conditions, ranges and options; the
cross-item rules; the instrument's derived variables. The codebook of a study adds the study's
own derived (analysis) variables, each with its definition in words and as declared, its type
and range, and its multi-item scales (`schemas.multi_item`) with their items and reliability:
Cronbach's alpha and McDonald's omega when numbers computed on data are handed in
(``reliability=``; ``surveydata codebook --data`` computes them), else how they will be
computed. The output has no timestamp, so it is reproducible.

Example:
    >>> import schemas
    >>> md = codebook(schemas.load_instrument(), lang="en")
    >>> md.splitlines()[0]
    '# Codebook: IT security in physician, dental and psychotherapy practices'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from .instrument import Instrument, Item
from .multi_item import multi_item_scales
from .response import check_specs

__all__ = ["codebook"]

_TEXT = {
    "de": {
        "codebook": "Codebuch",
        "instrument": "Instrument",
        "version": "Version",
        "columns": "Spalten im Export",
        "missing": "Fehlende Werte",
        "code": "Code",
        "name": "Name",
        "label": "Label",
        "metadata": "Metadaten",
        "variable": "Variable",
        "variables": "Variablen",
        "type": "Typ",
        "description": "Beschreibung",
        "section": "Abschnitt",
        "asked_if": "Gefragt, wenn",
        "otherwise": "sonst -7",
        "allowed_missing": "Zulässige fehlende Werte",
        "none": "keine (Pflichtangabe)",
        "range": "Wertebereich",
        "max_length": "Höchstlänge",
        "characters": "Zeichen",
        "option": "Option",
        "column": "Spalte",
        "exclusive": "ausschließend",
        "max_select": "Höchstens auszuwählen",
        "multi_coding": "1 = angekreuzt, 0 = nicht angekreuzt",
        "rules": "Prüfregeln zwischen Fragen",
        "severity": "Schwere",
        "when": "Wenn",
        "require": "Dann gilt",
        "message": "Meldung",
        "hard": "hart (Ablehnung)",
        "soft": "weich (Hinweis)",
        "builtin": "über die Fragen geprüft",
        "derived": "Abgeleitete Variablen",
        "definition": "Definition",
        "codes": "Codes",
        "computed_by": "Berechnet von",
        "checks": "Automatische Prüfungen",
        "ordered": "geordnet",
        "required": "Pflicht",
        "text_type": "Freitext",
        "unit": "Einheit",
        "decimals": "Nachkommastellen höchstens",
        "scale": "Skala",
        "points": "Punkte",
        "grid": "Fragenblock",
        "specify": "Freitext zu „{label}“",
        "specify_for": "Angabe zu Option",
        "date_range": "Zulässige Daten",
        "study": "Studie",
        "declared": "Deklaration",
        "study_derived": "Analysevariablen der Studie",
        "study_derived_intro": "Aus den Rohcodes berechnet (schemas.derive); fehlend, wo die "
                               "Definition keinen Wert ergibt.",
        "scales": "Skalen und Reliabilität",
        "no_scales": "Die Studie deklariert keine Skala aus mehreren Items.",
        "items": "Items",
        "reversed": "umgepolt",
        "score": "Skalenwert",
        "score_mean": "Mittelwert der gültigen Antworten",
        "score_sum": "Summe der gültigen Antworten",
        "score_min_valid": "mindestens {k} von {n} Antworten",
        "score_all_valid": "alle {n} Antworten nötig",
        "score_grid": "kein Skalenwert deklariert (Fragenblock)",
        "reliability": "Reliabilität",
        "reliability_how": (
            "Cronbachs Alpha und McDonalds Omega (Ein-Faktor-ML-Modell, Omega total) werden auf "
            "den Antwortcodes der Befragten berechnet, die alle Items beantwortet haben "
            "(umgepolte Items umgepolt), mit den Gewichten der Studie und designbasierten "
            "95-%-Konfidenzintervallen, sobald das Codebuch mit Daten erstellt wird "
            "(surveydata codebook --data EXPORT)."),
        "reliability_data": "berechnet auf {n} Befragten mit allen Items ({weighting})",
        "weighted": "gewichtet",
        "unweighted": "ungewichtet",
        "not_computed": "nicht berechenbar: {reason}",
        "ci": "95-%-KI",
        "undetermined": "nicht durch die Definition begrenzt",
    },
    "en": {
        "codebook": "Codebook",
        "instrument": "Instrument",
        "version": "version",
        "columns": "export columns",
        "missing": "Missing codes",
        "code": "Code",
        "name": "Name",
        "label": "Label",
        "metadata": "Metadata",
        "variable": "Variable",
        "variables": "variables",
        "type": "Type",
        "description": "Description",
        "section": "Section",
        "asked_if": "Asked if",
        "otherwise": "otherwise -7",
        "allowed_missing": "Missing codes accepted",
        "none": "none (required)",
        "range": "Range",
        "max_length": "Maximum length",
        "characters": "characters",
        "option": "Option",
        "column": "Column",
        "exclusive": "exclusive",
        "max_select": "Maximum selections",
        "multi_coding": "1 = ticked, 0 = not ticked",
        "rules": "Cross-item rules",
        "severity": "Severity",
        "when": "When",
        "require": "Require",
        "message": "Message",
        "hard": "hard (reject)",
        "soft": "soft (flag)",
        "builtin": "checked through the items",
        "derived": "Derived variables",
        "definition": "Definition",
        "codes": "Codes",
        "computed_by": "Computed by",
        "checks": "Automatic checks",
        "ordered": "ordered",
        "required": "required",
        "text_type": "free text",
        "unit": "Unit",
        "decimals": "Decimal places at most",
        "scale": "Scale",
        "points": "points",
        "grid": "Grid",
        "specify": "free text for “{label}”",
        "specify_for": "Specifies option",
        "date_range": "Dates accepted",
        "study": "Study",
        "declared": "Declared as",
        "study_derived": "Analysis variables of the study",
        "study_derived_intro": "Computed from the raw codes (schemas.derive); missing where the "
                               "definition gives no value.",
        "scales": "Scales and reliability",
        "no_scales": "The study declares no multi-item scale.",
        "items": "Items",
        "reversed": "reverse-keyed",
        "score": "Score",
        "score_mean": "mean of the valid answers",
        "score_sum": "sum of the valid answers",
        "score_min_valid": "at least {k} of {n} answers",
        "score_all_valid": "all {n} answers needed",
        "score_grid": "no score declared (grid)",
        "reliability": "Reliability",
        "reliability_how": (
            "Cronbach's alpha and McDonald's omega (one-factor ML model, omega total) are "
            "computed on the answer codes of the respondents who answered every item "
            "(reverse-keyed items reversed), with the study's weights and design-based 95% "
            "confidence intervals, when the codebook is built with data "
            "(surveydata codebook --data EXPORT)."),
        "reliability_data": "computed on {n} respondents with every item ({weighting})",
        "weighted": "weighted",
        "unweighted": "unweighted",
        "not_computed": "not computable: {reason}",
        "ci": "95% CI",
        "undetermined": "not bounded by the definition",
    },
}


#: What each registered computation (schemas.derived.REGISTRY) does, in words; the declaration
#: itself follows in code, so the words stay generic.
_WORDS = {
    "de": {
        "indicator": "1, wenn die Antwort einer der Codes ist, sonst 0; fehlend ohne Antwort",
        "indicator_condition": "1, wenn die Bedingung gilt, sonst 0; fehlend, wenn ein Item der "
                               "Bedingung nicht beantwortet ist",
        "count": "Anzahl der Einträge mit einem der Codes (bzw. erfüllter Bedingung)",
        "count_valid": "Anzahl gültiger Antworten unter den Einträgen",
        "n_ticked": "Anzahl angekreuzter Optionen",
        "sum": "Summe der gültigen Antworten (umgepolte Items umgepolt)",
        "mean": "Mittelwert der gültigen Antworten (umgepolte Items umgepolt)",
        "reverse": "Antwort umgepolt (Minimum + Maximum − Antwort)",
        "recode": "Antworten auf neue Codes abgebildet",
        "bins": "Klasse des Werts zwischen den Grenzen",
        "cases": "Wert der ersten zutreffenden Bedingung",
        "zmean": "Mittelwert der z-Werte der Komponenten (in den Daten standardisiert)",
        "ratio": "Zähler geteilt durch Nenner (fehlend bei Nenner 0)",
        "expr": "Rechenausdruck über gültige Antworten",
    },
    "en": {
        "indicator": "1 where the answer is one of the codes, else 0; missing when not answered",
        "indicator_condition": "1 where the condition holds, else 0; missing when an item it reads "
                               "is not answered",
        "count": "number of entries with one of the codes (or whose condition holds)",
        "count_valid": "number of valid answers among the entries",
        "n_ticked": "number of options ticked",
        "sum": "sum of the valid answers (reverse-keyed items reversed)",
        "mean": "mean of the valid answers (reverse-keyed items reversed)",
        "reverse": "the answer reversed (minimum + maximum − answer)",
        "recode": "answers mapped to new codes",
        "bins": "class of the value between the breaks",
        "cases": "value of the first condition that holds",
        "zmean": "mean of the z-scores of the components (standardised in the data)",
        "ratio": "numerator divided by denominator (missing where it is 0)",
        "expr": "arithmetic on the valid answers",
    },
}


def _flow(value) -> str:
    """A declaration written compactly on one line, as YAML's flow style."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def _definition(compute: Mapping, lang: str) -> str:
    """What the computation does, in words of ``lang``."""
    name = next(iter(compute), None)
    if name == "indicator" and "codes" not in compute:
        name = "indicator_condition"
    return _WORDS[lang].get(name, "")


def _declared(compute: Mapping) -> _InLang:
    """The declaration as written (code: variable names and the expression language, whose
    keywords are English, so marked lang="en" in a German page)."""
    return _InLang(f"`{_flow(compute)[1:-1]}`", "en")


def _number(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _code_span(inst: Instrument, var: str) -> tuple[float, float] | None:
    """Lowest and highest substantive numeric code of item `var` (None if it has none)."""
    try:
        item = inst.item(var)
    except (KeyError, ValueError):
        return None
    codes = [c for c in item.substantive_codes if isinstance(c, int) and not isinstance(c, bool)]
    if item.type in ("integer", "number") and item.min is not None and item.max is not None:
        return item.min, item.max
    return (min(codes), max(codes)) if codes else None


def _range(d, inst: Instrument, lang: str) -> str:
    """The values a derived variable can take, as far as its declaration bounds them."""
    t = _TEXT[lang]
    if d.codes:
        return "; ".join(f"`{c}` {lab.get(lang)}" for c, lab in d.codes.items())
    compute = dict(d.compute)
    name = next(iter(compute), None)
    arg = compute.get(name)
    entries = list(arg) if isinstance(arg, (list, tuple)) else [arg]
    if name == "indicator":
        return "0–1"
    if name in ("count", "count_valid"):
        return f"0–{len(entries)}"
    if name == "n_ticked":
        try:
            item = inst.item(str(arg))
        except (KeyError, ValueError):
            return t["undetermined"]
        excluded = {str(x) for x in compute.get("except", ()) or ()}
        return f"0–{sum(1 for o in item.options if str(o.code) not in excluded)}"
    if name in ("mean", "sum", "reverse"):
        spans = [_code_span(inst, str(v)) for v in entries]
        if not spans or any(s is None for s in spans):
            return t["undetermined"]
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        if name == "sum":
            k = compute.get("min_valid")
            k = k if isinstance(k, int) else len(entries)
            lo, hi = (k * lo if lo >= 0 else len(entries) * lo), len(entries) * hi
        return f"{_number(lo)}–{_number(hi)}"
    if name in ("recode", "cases"):
        values = (list((compute.get("map") or {}).values()) if name == "recode"
                  else [c.get("value") for c in arg or () if isinstance(c, Mapping)])
        other = compute.get("other")
        if other is not None and other != "keep":
            values.append(other)
        if other == "keep":
            return t["undetermined"]
        return ", ".join(f"`{v}`" for v in dict.fromkeys(values))
    if name == "bins":
        return f"1–{max(len(compute.get('breaks') or ()) - 1, 1)}"
    if name == "expr" and isinstance(arg, str) and (span := _code_span(inst, arg.strip())):
        return f"{_number(span[0])}–{_number(span[1])}"  # an item's answer as a number
    return t["undetermined"]


def _study_blocks(study, lang: str, reliability: Mapping | None) -> list[tuple]:
    """The study's part of its codebook: its own derived variables, its multi-item scales."""
    t = _TEXT[lang]
    inst = study.instrument
    b: list[tuple] = []
    own = [d for d in getattr(study, "derived", ()) or () if getattr(d, "origin", "") == "study"]
    if own:
        b.append(("h2", t["study_derived"]))
        b.append(("p", t["study_derived_intro"]))
        rows = []
        for d in own:
            label = d.label.get(lang) if d.label is not None else ""
            short = getattr(d, "short_label", None)
            if short is not None and short.get(lang) and short.get(lang) != label:
                label = f"{label} ({short.get(lang)})" if label else short.get(lang)
            rows.append([f"`{d.var}`", label, _definition(d.compute, lang), _declared(d.compute),
                         d.type, _range(d, inst, lang)])
        b.append(("table", [t["variable"], t["label"], t["definition"], t["declared"], t["type"],
                            t["range"]], rows))
    b.append(("h2", t["scales"]))
    scales = multi_item_scales(study)
    if not scales:
        b.append(("p", t["no_scales"]))
        return b
    if reliability is None:
        b.append(("p", t["reliability_how"]))
    for scale in scales:
        b.append(("h3", f"`{scale.name}`: {scale.title(lang)}"))
        items = []
        for var in scale.items:
            text = inst.item(var).text.get(lang)
            mark = f" ({t['reversed']})" if var in scale.reverse else ""
            items.append([f"`{var}`", text + mark])
        facts = []
        if scale.how == "grid":
            facts.append(f"{t['score']}: {t['score_grid']}")
        else:
            k = scale.min_valid
            need = (t["score_min_valid"].format(k=k, n=len(scale.items)) if k is not None
                    else t["score_all_valid"].format(n=len(scale.items)))
            facts.append(f"{t['score']}: {t['score_' + scale.how]}, {need}")
        if reliability is not None:
            facts.append(f"{t['reliability']}: {_reliability_text(reliability.get(scale.name), lang)}")
        b.append(("ul", facts))
        b.append(("table", [t["variable"], t["description"]], items))
    return b


def _reliability_text(numbers: Mapping | None, lang: str) -> str:
    """"alpha 0.81 (95% CI 0.78–0.84), omega 0.82 (...); computed on n respondents (weighted)"."""
    t = _TEXT[lang]
    if not numbers:
        return t["not_computed"].format(reason="–")
    if numbers.get("error"):
        return t["not_computed"].format(reason=numbers["error"])

    def num(x):
        text = f"{x:.2f}".replace("-", "\u2212")  # a minus sign: "−0.05–0.30" reads as a range
        return text.replace(".", ",") if lang == "de" else text

    parts = []
    for key, name in (("alpha", "Cronbach's alpha" if lang == "en" else "Cronbachs Alpha"),
                      ("omega", "McDonald's omega" if lang == "en" else "McDonalds Omega")):
        if numbers.get(key) is not None:
            est, lo, hi = numbers[key]
            parts.append(f"{name} {num(est)} ({t['ci']} {num(lo)}–{num(hi)})")
    weighting = t["weighted"] if numbers.get("weighted") else t["unweighted"]
    n = f"{int(numbers.get('n', 0)):,}".replace(",", "." if lang == "de" else ",")
    return ", ".join(parts) + "; " + t["reliability_data"].format(n=n, weighting=weighting)


# A codebook is a list of blocks, rendered to Markdown or HTML. Cell and paragraph text is
# plain; `backticks` mark code in both renderings.
def _blocks(inst: Instrument, lang: str) -> list[tuple]:
    t = _TEXT[lang]
    b: list[tuple] = [("h1", f"{t['codebook']}: {inst.title.get(lang)}")]
    b.append(
        (
            "p",
            (
                f"{t['instrument']} `{inst.name}`, {t['version']} {inst.version}; "
                f"{len(inst.items)} {t['variables']}, {len(inst.columns)} {t['columns']}."
            ),
        )
    )
    b.append(("h2", t["missing"]))
    b.append(
        (
            "table",
            [t["code"], t["name"], t["label"]],
            [[f"`{m.code}`", m.name, m.label.get(lang)] for m in inst.missing_codes.values()],
        )
    )
    b.append(("h2", t["metadata"]))
    b.append(
        (
            "table",
            [t["variable"], t["type"], t["description"]],
            [[f"`{m.var}`", m.type, m.text.get(lang)] for m in inst.metadata],
        )
    )
    checks_by_var: dict[str, list[str]] = {}
    for spec in check_specs(inst):
        target = spec.name.split(":", 1)[1]
        var = target.split("__")[0]
        checks_by_var.setdefault(var, []).append(f"`{spec.name}`")
    section = None
    for item in inst.items:
        if item.section != section:
            section = item.section
            b.append(("h2", f"{t['section']} {section}: {inst.sections[section].title.get(lang)}"))
        b.extend(_item_blocks(inst, item, lang, checks_by_var.get(item.var, [])))
    b.append(("h2", t["rules"]))
    rows = []
    for rule in inst.rules:
        rows.append(
            [
                f"`{rule.id}`",
                t[rule.severity],
                f"`{rule.when.text}`" if rule.when else "",
                f"`{rule.require.text}`" if rule.require else f"{t['builtin']} ({rule.builtin})",
                rule.message.get(lang),
            ]
        )
    b.append(("table", ["ID", t["severity"], t["when"], t["require"], t["message"]], rows))
    b.append(("h2", t["derived"]))
    rows = []
    for d in inst.derived:
        codes = "; ".join(f"`{c}` {lab.get(lang)}" for c, lab in d.codes.items())
        rows.append([f"`{d.var}`", d.text.get(lang), _InLang(d.rule, "en"), codes, f"`{d.computed_by}`"])
    b.append(
        (
            "table",
            [t["variable"], t["description"], t["definition"], t["codes"], t["computed_by"]],
            rows,
        )
    )
    return b


def _item_blocks(inst: Instrument, item: Item, lang: str, checks: list[str]) -> list[tuple]:
    t = _TEXT[lang]
    kind = t["text_type"] if item.type == "text" else item.type
    flags = [kind]
    if item.required:
        flags.append(t["required"])
    if item.ordered:
        flags.append(t["ordered"])
    b: list[tuple] = [("h3", f"`{item.var}` ({', '.join(flags)})"), ("p", item.text.get(lang))]
    facts = []
    if item.grid is not None:
        facts.append(f"{t['grid']} `{item.grid}`: {item.stem.get(lang)}")
    if item.ask_if is not None:
        otherwise = t["otherwise"].replace("-7", str(item.not_applicable))
        facts.append(f"{t['asked_if']}: `{item.ask_if.text}` ({otherwise})")
    if item.specify_for is not None:
        var, code = item.specify_for
        facts.append(f"{t['specify_for']}: `{var}` = `{code}`")
    if item.type != "text":
        accepted = ", ".join(f"`{m}` {inst.missing_codes[m].label.get(lang)}" for m in item.missing)
        facts.append(f"{t['allowed_missing']}: {accepted or t['none']}")
    if item.type in ("integer", "number"):
        facts.append(f"{t['range']}: {item.min}–{item.max}")
    if item.type in ("date", "datetime"):
        facts.append(f"{t['date_range']}: {item.min} – {item.max}")
    if item.unit is not None:
        facts.append(f"{t['unit']}: {item.unit.get(lang)}")
    if item.type == "number":
        facts.append(f"{t['decimals']}: {item.decimals}")
    if item.scale is not None:
        scale = inst.scales[item.scale]
        facts.append(f"{t['scale']} `{item.scale}`: {len(scale.points)} {t['points']} "
                     f"({scale.points[0]}–{scale.points[-1]})")
    if item.type == "text":
        facts.append(f"{t['max_length']}: {item.max_length} {t['characters']}")
    if item.type == "multi":
        facts.append(t["multi_coding"])
        if item.max_select is not None:
            facts.append(f"{t['max_select']}: {item.max_select}")
    if checks:
        facts.append(f"{t['checks']}: {', '.join(checks)}")
    b.append(("ul", facts))
    if item.type == "multi":
        rows = [
            [f"`{item.var}__{o.code}`", o.label.get(lang),
             "; ".join(x for x in (t["exclusive"] if o.exclusive else "",
                                   _specify(item, o.code, t)) if x)]
            for o in item.options
        ]
        b.append(("table", [t["column"], t["label"], ""], rows))
    elif item.codes:
        rows = [[f"`{c}`", lab.get(lang)] for c, lab in item.codes.items()]
        if item.specify:
            rows = [[*row, _specify(item, c, t)] for row, c in zip(rows, item.codes)]
            b.append(("table", [t["code"], t["label"], ""], rows))
        else:
            b.append(("table", [t["code"], t["label"]], rows))
    return b


def _specify(item: Item, code, t) -> str:
    target = item.specify.get(code)
    if target is None:
        return ""
    return t["specify"].format(label=f"`{target}`")


# --------------------------------------------------------------------------- renderers


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _render_md(blocks) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out += ["#" * int(kind[1]) + " " + block[1], ""]
        elif kind == "p":
            out += [block[1], ""]
        elif kind == "ul":
            out += [f"- {x}" for x in block[1]] + [""]
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            out.append("|" + "|".join("---" for _ in header) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_CODE = re.compile(r"`([^`]*)`")


class _InLang(str):
    """A text in a given language whatever the codebook's (a derived variable's rule is written
    once, in English): marked ``lang`` in HTML so that the page says which parts are which."""

    def __new__(cls, text, lang: str):
        obj = super().__new__(cls, "" if text is None else text)
        obj.lang = lang
        return obj


def _html_cell(c, lang: str) -> str:
    if isinstance(c, _InLang) and c and c.lang != lang:
        return f'<td lang="{c.lang}">{_html_text(c)}</td>'
    return f"<td>{_html_text(c)}</td>"


def _html_text(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(str(text), quote=False))


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.4}table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "code{background:#f4f4f4;padding:0 .2rem}h3{margin-bottom:.2rem}"
    ".scroll{max-width:100%;overflow-x:auto;position:relative}body{overflow-wrap:break-word}"
    ".toc{border:1px solid #ccc;padding:.3rem 1rem;margin:1rem 0}.toc-items{margin:.2rem 0;font-size:.9em}"
    "@media print{.toc{display:none}h2,h3{break-after:avoid}tr{break-inside:avoid}}"
)


def _anchor(text: str, i: int) -> str:
    return f"s{i}-" + (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section")


def _toc(blocks, lang: str) -> str:
    """A table of contents: the sections (h2), each with its items (h3) on one line."""
    items, current = [], None
    for i, block in enumerate(blocks):
        if block[0] == "h2":
            current = [f'<a href="#{_anchor(block[1], i)}">{_html_text(block[1])}</a>', []]
            items.append(current)
        elif block[0] == "h3" and current is not None:
            current[1].append(f'<a href="#{_anchor(block[1], i)}">{_html_text(block[1])}</a>')
    label = "Inhalt" if lang == "de" else "Contents"
    lis = "".join(f"<li>{head}" + (f'<p class="toc-items">{" · ".join(subs)}</p>' if subs else "")
                  + "</li>" for head, subs in items)
    return f'<nav class="toc" aria-label="{label}"><h2>{label}</h2><ol>{lis}</ol></nav>'


def _render_html(blocks, lang: str, title: str) -> str:
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head>",
        "<body><main>",
    ]
    n_tables = 0
    for i, block in enumerate(blocks):
        kind = block[0]
        if kind in ("h2", "h3"):
            out.append(f'<{kind} id="{_anchor(block[1], i)}">{_html_text(block[1])}</{kind}>')
        elif kind in ("h1", "p"):
            out.append(f"<{kind}>{_html_text(block[1])}</{kind}>")
            if kind == "h1":
                out.append(_toc(blocks, lang))
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_html_text(x)}</li>" for x in block[1]) + "</ul>")
        elif kind == "table":
            blank = ('<span style="position:absolute;width:1px;height:1px;overflow:hidden;'
                     f'clip:rect(0 0 0 0)">{"Hinweis" if lang == "de" else "Note"}</span>')
            head = "".join(f'<th scope="col">{_html_text(h) if h else blank}</th>' for h in block[1])
            body = "".join(
                "<tr>" + "".join(_html_cell(c, lang) for c in row) + "</tr>"
                for row in block[2]
            )
            n_tables += 1
            label = f'{"Tabelle" if lang == "de" else "Table"} {n_tables}'
            out.append(f'<div class="scroll" role="region" tabindex="0" aria-label="{label}">'
                       f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    out += ["</main></body>", "</html>"]
    return "\n".join(out) + "\n"


def codebook(inst, lang: str = "de", fmt: str = "md", reliability: Mapping | None = None) -> str:
    """The codebook of `inst` (an Instrument, or a Study: then with the study's analysis
    variables and scales) as a string: Markdown (`fmt="md"`) or one self-contained HTML page
    (`fmt="html"`, no external resources), in German (`lang="de"`) or English.

    `reliability` (a study's codebook built with data) maps a scale's name to numbers computed
    on the data: ``{"alpha": (estimate, ci_low, ci_high), "omega": (...), "n": rows used,
    "weighted": bool}``, or ``{"error": "why not"}``. Without it the codebook says how they
    will be computed.

    Example:
        >>> import schemas
        >>> page = codebook(schemas.load_instrument(), lang="de", fmt="html")
        >>> page.startswith("<!DOCTYPE html>") and "<code>practice_type</code>" in page
        True
    """
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'de' or 'en', got {lang!r}")
    if fmt not in ("md", "html"):
        raise ValueError(f"fmt must be 'md' or 'html', got {fmt!r}")
    study = inst if hasattr(inst, "instrument") else None
    blocks = _blocks(study.instrument if study is not None else inst, lang)
    if study is not None:
        blocks[1:1] = [("p", f"{_TEXT[lang]['study']} `{study.name}`: {study.title(lang)}")]
        blocks += _study_blocks(study, lang, reliability)
    if fmt == "md":
        return _render_md(blocks)
    if fmt == "html":
        return _render_html(blocks, lang, blocks[0][1])
    raise ValueError(f"fmt must be 'md' or 'html', got {fmt!r}")
