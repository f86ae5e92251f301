"""Propose a plan's column mapping for a universe export, and write a commented plan (``init``).

Exports name their columns every which way (``Acct #``, ``Coder Name``, ``DX1..DX25``,
``Total Paid``, ``Svc Dt``). :func:`guess_mapping` reads the header and a sample of rows and
proposes, for every audit-kit field, the column(s) that hold it:

1. **PHI first**: patient names, MRN, date of birth, SSN, address, phone, e-mail are recognised
   by header (and SSN, phone and e-mail by value), so that they are never mapped as anything
   else and never offered to a workbook.
2. **Headers**: a synonym table per field, matched on the header folded to lower-case letters
   and digits (``Acct #`` -> ``acct``).
3. **Repeated columns**: ``DX1..DX25``, ``Diag 1..Diag 12``, ``CPT1..CPT4``, ``Proc1..`` become
   one code-list field, in numeric order; a principal-diagnosis column goes first.
4. **Values**, for what headers left open: ICD-10-CM codes (checked against the public code
   set), ICD-10-PCS codes, CPT/HCPCS items with modifiers, money, dates, sex, age, setting, and
   unit ids (unique, never empty).

Every guess says what it was guessed from; :func:`write_plan` puts that beside each line of the
plan as ``# review: guessed from ...``. Nothing is silently overwritten. Messages name columns,
never values (PHI).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from audit_kit.audit import atomic_write_bytes
from audit_kit.codes import icd10cm_status, parse_cpt, split_codes
from audit_kit.errors import AuditError, PlanError, Problem
from audit_kit.plan import SamplingPlan, parse_plan_text
from audit_kit.presets import list_presets

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "ColumnGuess",
    "InitSummary",
    "MappingProposal",
    "guess_mapping",
    "plan_text",
    "read_head",
    "write_plan",
]

DEFAULT_SAMPLE_ROWS = 1000
_SHARE = 0.8  # share of non-empty sample values that must fit a pattern

#: Fields in the order they are written; the first three are the ones a plan needs most.
_ORDER = (
    "unit_id",
    "coder",
    "provider",
    "patient",
    "service_date",
    "setting",
    "payer",
    "dx",
    "px",
    "cpt",
    "units",
    "drg",
    "billed",
    "paid",
    "auditor",
    "age",
    "sex",
    "discharge_status",
)
_IMPORTANT = ("unit_id", "coder", "paid", "dx")
_WORKBOOK_FIELDS = (
    "unit_id",
    "coder",
    "provider",
    "setting",
    "service_date",
    "dx",
    "px",
    "cpt",
    "units",
    "drg",
    "paid",
)


def fold(header: str) -> str:
    """Fold a header for matching: lower-case letters and digits only (``Acct #`` -> ``acct``)."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _words(*items: str) -> frozenset[str]:
    return frozenset(fold(i) for text in items for i in text.split(","))


# Synonyms per field, folded; the first field whose set holds a folded header wins.
_HEADERS: dict[str, frozenset[str]] = {
    "unit_id": _words(
        "encounter,encounter id,encounter no,encounter number,enc,enc id,enc no,enc nbr,"
        "acct,acct no,acct num,acct nbr,account,account no,account number,account num,"
        "patient account,patient account number,pat acct,claim,claim id,claim no,claim number,"
        "claim nbr,icn,tcn,visit,visit id,visit no,visit number,fin,fin nbr,har,har id,"
        "case id,case no,case number,unit id,line id,claim line id,record id,id"
    ),
    "coder": _words(
        "coder,coder name,coder id,coded by,coder user,coder user id,coding user,abstractor,"
        "coder initials,hi coder,final coder,coding professional"
    ),
    "provider": _words(
        "provider,provider name,provider id,provider npi,npi,rendering provider,rendering npi,"
        "rendering,attending,attending physician,attending provider,attending npi,attending md,"
        "physician,physician name,doctor,billing provider,surgeon,clinician,rendering name"
    ),
    "patient": _words(
        "patient name,patient,pt name,pat name,name,member name,beneficiary,beneficiary name,"
        "patient full name,guarantor name,last name,patient last name,pt last name"
    ),
    "service_date": _words(
        "service date,svc dt,svc date,date of service,dos,from date,service from date,"
        "svc from date,visit date,encounter date,discharge date,disch dt,disch date,"
        "discharge dt,through date,thru date,claim date,admit date,admission date,date"
    ),
    "setting": _words(
        "setting,patient type,pt type,pat type,encounter type,enc type,patient class,"
        "pt class,visit type,claim type,service type,care setting,ip op"
    ),
    "payer": _words(
        "payer,payor,payer name,payor name,financial class,fin class,fc,insurance,insurance name,"
        "primary payer,primary payor,primary insurance,plan,plan name,health plan,carrier"
    ),
    "dx": _words(
        "dx,dx codes,dxs,diagnosis,diagnoses,diagnosis codes,diagnosis code,dx code,icd10,"
        "icd 10 cm,icd10cm,icd codes,icd,dx list,all dx,diagnosis list"
    ),
    "px": _words(
        "px,px codes,procedures,icd10pcs,icd 10 pcs,pcs,pcs codes,icd procedures,"
        "icd procedure codes,proc codes,procedure list,icd px"
    ),
    "cpt": _words(
        "cpt,cpts,cpt codes,cpt code,hcpcs,hcpcs codes,hcpcs code,cpt hcpcs,cpt/hcpcs,"
        "cpt hcpcs codes,procedure code,procedure codes,proc code,service code,billing codes,"
        "charge codes"
    ),
    "units": _words("units,unit,qty,quantity,service units,svc units,units of service,days units"),
    "drg": _words("drg,ms drg,msdrg,drg code,final drg,drg no,drg number,billed drg,ms-drg"),
    "billed": _words(
        "billed,billed amount,billed amt,charges,total charges,total charge,charge,charge amount,"
        "charge amt,billed charges,gross charges,submitted charges,amount billed,total billed"
    ),
    "paid": _words(
        "paid,paid amount,paid amt,total paid,payment,payments,payment amount,reimbursement,"
        "amount paid,net paid,pmt,pmt amt,total payment,paid total,insurance paid,reimbursed"
    ),
    "auditor": _words("auditor,auditor name,reviewer,reviewer name,assigned auditor"),
    "age": _words("age,patient age,pt age,age years,age at service,age at admission"),
    "sex": _words("sex,gender,patient sex,pt sex,patient gender"),
    "discharge_status": _words(
        "discharge status,discharge disposition,disposition,disch status,disch disp,"
        "patient status,discharge disp,dc status,dc disp"
    ),
}
# Lower numbers win when several columns match one field by header.
_DATE_PREFERENCE = (
    "service date,svc dt,svc date,date of service,dos,from date,service from date,"
    "svc from date,visit date,encounter date,discharge date,disch dt,disch date,"
    "discharge dt,through date,thru date,claim date,admit date,admission date,date"
)
_DATE_RANK = {fold(h): i for i, h in enumerate(_DATE_PREFERENCE.split(","))}
_PRINCIPAL_DX = _words(
    "pdx,principal dx,principal diagnosis,principal diag,primary dx,primary diagnosis,prin dx,"
    "principal icd,dx principal,first listed dx"
)
_PHI_HEADERS: dict[str, frozenset[str]] = {
    "mrn": _words(
        "mrn,medical record number,medical record no,med rec no,med rec num,medical record,"
        "mr no,mr number,mr num,chart number,chart no,patient id,pat id,pt id,member id,"
        "subscriber id,mbi,hicn,medicare id,medicaid id,insurance id,policy number,policy no"
    ),
    "dob": _words("dob,date of birth,birth date,birthdate,birth dt,pt dob,patient dob"),
    "name": _words(
        "first name,patient first name,pt first name,middle name,given name,guarantor,"
        "subscriber name,insured name,responsible party"
    ),
    "ssn": _words("ssn,social security number,social security,social security no,ss no,ssn4"),
    "address": _words(
        "address,street,street address,address 1,address 2,address1,address2,addr,"
        "patient address,home address,city,zip,zip code,postal code,zipcode"
    ),
    "phone": _words("phone,phone number,telephone,home phone,cell phone,mobile,tel,contact phone"),
    "email": _words("email,e mail,email address,patient email"),
}
#: PHI kinds the audit may need (record retrieval) and therefore keeps; the others are not kept.
_PHI_KEPT = ("mrn", "dob", "name")

# Repeated code columns: folded prefix -> field (``DX1``, ``Diag 2``, ``CPT_3``, ``Proc4``).
_REPEAT_PREFIX = {
    "dx": "dx",
    "diag": "dx",
    "diagnosis": "dx",
    "diagcode": "dx",
    "dxcode": "dx",
    "icd": "dx",
    "icd10": "dx",
    "icd10cm": "dx",
    "sdx": "dx",
    "secondarydx": "dx",
    "otherdx": "dx",
    "px": "px",
    "icdpx": "px",
    "icdproc": "px",
    "pcs": "px",
    "icd10pcs": "px",
    "proc": "px",  # or CPT: decided by the values
    "procedure": "px",
    "proccode": "px",
    "procedurecode": "cpt",
    "cpt": "cpt",
    "hcpcs": "cpt",
    "cpthcpcs": "cpt",
    "cptcode": "cpt",
    "mod": "modifier",
    "modifier": "modifier",
    "poa": "poa",
}
_REPEAT_RE = re.compile(r"^(?P<prefix>.*?[A-Za-z])[\s_#-]*(?P<n>\d{1,2})$")

_SSN_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_PHONE_RE = re.compile(r"^\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_MONEY_RE = re.compile(r"^\(?-?\$?\s?-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\)?$")
_DATE_RES = (
    re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$"),
    re.compile(r"^\d{1,2}/\d{1,2}/(\d{2}|\d{4})$"),
    re.compile(r"^\d{8}$"),
)
_INT_RE = re.compile(r"^\d{1,3}$")
_PCS_RE = re.compile(r"^[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}$")
_CPT_ONLY_RE = re.compile(r"^(\d{5}|\d{4}[FTU])$")
_HCPCS_RE = re.compile(r"^[ABCDEGHJKLMPQRSTV]\d{4}$")
_DRG_RE = re.compile(r"^\d{3}$")
_SEX_VALUES = frozenset({"m", "f", "u", "male", "female", "unknown", "x"})
_SETTING_VALUES = frozenset(
    {
        "inpatient",
        "outpatient",
        "professional",
        "ip",
        "op",
        "pro",
        "profee",
        "observation",
        "obs",
        "emergency",
        "ed",
        "er",
        "clinic",
        "office",
        "ambulatory",
        "asc",
        "same day surgery",
        "sds",
        "recurring",
        "i",
        "o",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnGuess:
    """One proposed mapping: a field (or PHI) -> column(s), and what it was guessed from."""

    field: str
    columns: tuple[str, ...]
    source: str  # "header", "repeated columns", "values"
    reason: str  # said in the plan: "# review: guessed from <reason>"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "columns": list(self.columns),
            "source": self.source,
            "reason": self.reason,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingProposal:
    """What :func:`guess_mapping` proposes for one export."""

    columns: tuple[str, ...]
    rows_read: int
    fields: dict[str, ColumnGuess]
    phi: tuple[ColumnGuess, ...]  # PHI columns kept (and marked) in sample.csv
    phi_not_kept: tuple[ColumnGuess, ...]  # PHI the audit does not need: left out of the plan
    unmapped: tuple[str, ...]
    missing: tuple[str, ...]  # important fields no column was found for
    code_separator: str = ";"
    notes: tuple[str, ...] = ()

    def mapped_columns(self) -> dict[str, list[str]]:
        return {name: list(g.columns) for name, g in self.fields.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows_read": self.rows_read,
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "phi": [g.to_dict() for g in self.phi],
            "phi_not_kept": [g.to_dict() for g in self.phi_not_kept],
            "unmapped": list(self.unmapped),
            "missing": list(self.missing),
            "code_separator": self.code_separator,
            "notes": list(self.notes),
        }


# -- value patterns ------------------------------------------------------------------------------


def _values(series: pl.Series) -> list[str]:
    out = []
    for value in series.cast(pl.String).to_list():
        if value is None:
            continue
        text = str(value).strip()
        if text:
            out.append(text)
    return out


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    if not values:
        return 0.0
    return sum(1 for v in values if test(v)) / len(values)


def _is_money(text: str) -> bool:
    return bool(_MONEY_RE.match(text)) and ("." in text or "$" in text or "," in text)


def _is_number(text: str) -> bool:
    try:
        value = float(text.replace(",", "").replace("$", ""))
    except ValueError:
        return False
    return math.isfinite(value)


def _is_date(text: str) -> bool:
    return any(rx.match(text) for rx in _DATE_RES)


def _code_kind(token: str) -> str:
    """Classify one token: dx, px, cpt, ambiguous (HCPCS or undotted ICD-10-CM), or other."""
    code = token.strip().upper()
    if "." in code:
        return "dx" if icd10cm_status(code) != "unknown" else "other"
    if _CPT_ONLY_RE.match(code):
        return "cpt"
    if _HCPCS_RE.match(code):
        return "ambiguous" if icd10cm_status(code) != "unknown" else "cpt"
    if code[:1].isalpha() and icd10cm_status(code) != "unknown":
        return "dx"
    if _PCS_RE.match(code):
        return "px"
    return "cpt" if parse_cpt(code) is not None else "other"


def _code_field(values: Sequence[str], separator: str) -> tuple[str | None, float]:
    """Return the code field most values of a column fit (dx, px, cpt) and the share."""
    tokens = [t for v in values for t in split_codes(v, separator)]
    if not tokens:
        return None, 0.0
    counts = {"dx": 0, "px": 0, "cpt": 0, "ambiguous": 0, "other": 0}
    for token in tokens[:2000]:
        counts[_code_kind(token)] += 1
    n = sum(counts.values())
    amb = counts["ambiguous"]
    best = max(("dx", "px", "cpt"), key=lambda k: counts[k])
    share = (counts[best] + (amb if best in ("dx", "cpt") else 0)) / n
    if counts[best] == 0 and amb:
        best, share = "dx", amb / n
    return (best, share) if share >= _SHARE else (None, share)


def _detect_separator(values: Sequence[str]) -> str:
    head = values[:200]
    for sep in ("|", "^", "~", "/"):
        if head and sum(1 for v in head if sep in v) / len(head) > 0.3:
            return sep
    return ";"


_PHI_VALUE_NAMES = {"ssn": "SSNs", "phone": "phone numbers", "email": "e-mail addresses"}


def _phi_by_value(values: Sequence[str]) -> str | None:
    if not values:
        return None
    if _share(values, lambda v: bool(_SSN_RE.match(v))) >= _SHARE:
        return "ssn"
    if _share(values, lambda v: bool(_PHONE_RE.match(v))) >= _SHARE:
        return "phone"
    if _share(values, lambda v: bool(_EMAIL_RE.match(v))) >= _SHARE:
        return "email"
    return None


# -- the proposal --------------------------------------------------------------------------------


@dataclass(slots=True)
class _State:
    frame: pl.DataFrame
    free: list[str]
    fields: dict[str, ColumnGuess] = field(default_factory=dict)
    phi: list[ColumnGuess] = field(default_factory=list)
    phi_not_kept: list[ColumnGuess] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: recognised but deliberately not mapped (modifier and POA columns): no value guessing
    reserved: list[str] = field(default_factory=list)
    _values: dict[str, list[str]] = field(default_factory=dict)

    def values(self, column: str) -> list[str]:
        if column not in self._values:
            self._values[column] = _values(self.frame[column])
        return self._values[column]

    def take(self, guess: ColumnGuess) -> None:
        for col in guess.columns:
            self.free.remove(col)
        if guess.field == "phi":
            self.phi.append(guess)
        elif guess.field == "phi-not-kept":
            self.phi_not_kept.append(guess)
        else:
            self.fields[guess.field] = guess


def guess_mapping(frame: pl.DataFrame) -> MappingProposal:
    """Propose a column mapping for the header and sample rows of a universe export.

    ``frame`` holds the export's columns (any types; they are read as text). Pure function:
    no file is read, nothing is printed.
    """
    columns = tuple(frame.columns)
    state = _State(frame=frame, free=list(columns))
    _phi_pass(state)
    _repeat_pass(state)
    _header_pass(state)
    _value_pass(state)
    separator = ";"
    for name in ("dx", "px", "cpt"):
        guess = state.fields.get(name)
        if guess and len(guess.columns) == 1:
            separator = _detect_separator(state.values(guess.columns[0]))
            if separator != ";":
                break
    _check_unit_id(state)
    missing = tuple(f for f in _IMPORTANT if f not in state.fields)
    if "dx" in missing and ("cpt" in state.fields or "px" in state.fields):
        missing = tuple(f for f in missing if f != "dx")
    return MappingProposal(
        columns=columns,
        rows_read=frame.height,
        fields={k: state.fields[k] for k in _ORDER if k in state.fields},
        phi=tuple(state.phi),
        phi_not_kept=tuple(state.phi_not_kept),
        unmapped=tuple(c for c in columns if c in state.free or c in state.reserved),
        missing=missing,
        code_separator=separator,
        notes=tuple(state.notes),
    )


def _phi_pass(state: _State) -> None:
    for col in list(state.free):
        key = fold(col)
        kind = next((k for k, words in _PHI_HEADERS.items() if key in words), None)
        reason = f"the header '{col}'"
        if kind is None and key in _HEADERS["patient"]:
            continue  # the patient field itself, mapped in the header pass
        if kind is None:
            kind = _phi_by_value(state.values(col))
            reason = f"values shaped like {_PHI_VALUE_NAMES.get(str(kind), str(kind))}"
        if kind is None:
            continue
        kept = kind in _PHI_KEPT
        state.take(
            ColumnGuess(
                field="phi" if kept else "phi-not-kept",
                columns=(col,),
                source="header" if reason.startswith("the header") else "values",
                reason=reason,
                notes=(f"PHI ({kind})",),
            )
        )


def _repeat_pass(state: _State) -> None:
    groups: dict[str, list[tuple[int, str]]] = {}
    for col in state.free:
        match = _REPEAT_RE.match(col.strip())
        if not match:
            continue
        prefix = fold(match["prefix"])
        target = _REPEAT_PREFIX.get(prefix)
        if target is None:
            continue
        groups.setdefault(f"{target}:{prefix}", []).append((int(match["n"]), col))
    for key in sorted(groups, key=lambda k: min(n for n, _ in groups[k])):
        target, _, _prefix = key.partition(":")
        members = [c for _, c in sorted(groups[key])]
        if len(members) < 2 and target not in ("dx", "cpt", "px"):
            continue
        first, last = members[0], members[-1]
        if target in ("modifier", "poa"):
            state.notes.append(
                f"columns {first}..{last} look like separate {target} columns: audit-kit reads "
                + (
                    "modifiers attached to the code (99214-25); join them in the export or "
                    "keep them with keep:"
                    if target == "modifier"
                    else "no POA indicators; they are left out"
                )
            )
            for col in members:
                state.free.remove(col)
                state.reserved.append(col)
            continue
        values = [v for c in members for v in state.values(c)]
        kind, share = _code_field(values, ";")
        if kind is None and values:
            state.notes.append(
                f"columns {first}..{last} are named like {target} codes but their values are "
                "not: not mapped"
            )
            continue
        if kind is not None and kind != target:
            target = kind
        if target in state.fields:
            continue
        described = (
            f"{len(members)} repeated columns {first}..{last}"
            if len(members) > 1
            else (f"the header '{first}'")
        )
        if kind is not None:
            described += f"; {share:.0%} of the values look like {_KIND_NAMES[kind]}"
        principal = _principal_column(state) if target == "dx" else None
        cols = tuple(([principal] if principal else []) + members)
        if principal:
            described = f"the header '{principal}' (principal) and {described}"
        state.take(
            ColumnGuess(field=target, columns=cols, source="repeated columns", reason=described)
        )


_KIND_NAMES = {"dx": "ICD-10-CM codes", "px": "ICD-10-PCS codes", "cpt": "CPT/HCPCS codes"}


def _principal_column(state: _State) -> str | None:
    for col in state.free:
        if fold(col) in _PRINCIPAL_DX:
            return col
    return None


def _header_pass(state: _State) -> None:
    matches: dict[str, list[str]] = {}
    for col in state.free:
        key = fold(col)
        for name, words in _HEADERS.items():
            if key in words:
                matches.setdefault(name, []).append(col)
                break
        else:
            if key in _PRINCIPAL_DX:
                matches.setdefault("dx", []).append(col)
    for name in _ORDER:
        cols = [c for c in matches.get(name, []) if c in state.free]
        if not cols or name in state.fields:
            continue
        if name == "service_date":
            cols.sort(key=lambda c: _DATE_RANK.get(fold(c), 99))
        if name == "unit_id":
            unique = [c for c in cols if _unique(state.values(c), state.frame.height)]
            cols = unique + [c for c in cols if c not in unique]
        if name in ("dx", "px", "cpt"):
            kind, share = _code_field(
                state.values(cols[0]), _detect_separator(state.values(cols[0]))
            )
            if kind is not None and kind != name and kind not in state.fields:
                name_used = kind
                reason = (
                    f"the header '{cols[0]}' and values ({share:.0%} look like {_KIND_NAMES[kind]})"
                )
                state.take(
                    ColumnGuess(field=name_used, columns=(cols[0],), source="header", reason=reason)
                )
                continue
        notes: tuple[str, ...] = ()
        if name == "patient":
            notes = ("PHI (patient name)",)
        if len(cols) > 1:
            others = ", ".join(f"'{c}'" for c in cols[1:])
            state.notes.append(f"{name}: '{cols[0]}' chosen; {others} also matched (not mapped)")
        state.take(
            ColumnGuess(
                field=name,
                columns=(cols[0],),
                source="header",
                reason=f"the header '{cols[0]}'",
                notes=notes,
            )
        )


def _unique(values: Sequence[str], height: int) -> bool:
    return bool(values) and len(values) == height and len(set(values)) == len(values)


def _value_pass(state: _State) -> None:
    height = state.frame.height
    # code lists
    for col in list(state.free):
        values = state.values(col)
        kind, share = _code_field(values, _detect_separator(values))
        if kind is not None and kind not in state.fields:
            state.take(
                ColumnGuess(
                    field=kind,
                    columns=(col,),
                    source="values",
                    reason=f"values: {share:.0%} look like {_KIND_NAMES[kind]}",
                )
            )
    checks: list[tuple[str, Callable[[list[str]], bool], str]] = [
        ("sex", lambda v: _share(v, lambda x: x.lower() in _SEX_VALUES) >= _SHARE, "sex codes"),
        (
            "setting",
            lambda v: _share(v, lambda x: x.lower() in _SETTING_VALUES) >= _SHARE,
            "care settings (inpatient, outpatient...)",
        ),
        ("service_date", lambda v: _share(v, _is_date) >= _SHARE, "dates"),
        (
            "age",
            lambda v: _share(v, lambda x: bool(_INT_RE.match(x)) and int(x) <= 120) >= _SHARE,
            "ages (whole numbers 0-120)",
        ),
    ]
    for name, test, what in checks:
        if name in state.fields:
            continue
        for col in state.free:
            values = state.values(col)
            if values and test(values):
                state.take(
                    ColumnGuess(
                        field=name, columns=(col,), source="values", reason=f"values: {what}"
                    )
                )
                break
    money = [
        c for c in state.free if state.values(c) and _share(state.values(c), _is_money) >= _SHARE
    ]
    if "paid" not in state.fields and len(money) == 1:
        state.take(
            ColumnGuess(
                field="paid",
                columns=(money[0],),
                source="values",
                reason="values: the only money column",
            )
        )
    elif "paid" not in state.fields and money:
        state.notes.append(
            "several money columns (" + ", ".join(money) + "): map paid (and billed) by hand"
        )
    if "unit_id" not in state.fields:
        for col in state.free:
            values = state.values(col)
            if _unique(values, height) and not all(
                _is_money(v) or _is_date(v) for v in values[:50]
            ):
                state.take(
                    ColumnGuess(
                        field="unit_id",
                        columns=(col,),
                        source="values",
                        reason=f"values: unique and never empty in the first {height:,} rows",
                    )
                )
                break


def _check_unit_id(state: _State) -> None:
    guess = state.fields.get("unit_id")
    if guess is None:
        return
    values = state.values(guess.columns[0])
    height = state.frame.height
    if not _unique(values, height):
        empty = height - len(values)
        dupes = len(values) - len(set(values))
        state.fields["unit_id"] = ColumnGuess(
            field="unit_id",
            columns=guess.columns,
            source=guess.source,
            reason=guess.reason,
            notes=(
                *guess.notes,
                f"not unique in the first {height:,} rows ({dupes} repeated, {empty} empty): "
                "a unit id must identify one row; check the sampling unit (claim vs line)",
            ),
        )
    elif guess.source == "header":
        state.fields["unit_id"] = ColumnGuess(
            field="unit_id",
            columns=guess.columns,
            source=guess.source,
            reason=f"{guess.reason}; unique in the first {height:,} rows",
            notes=guess.notes,
        )


# -- reading the export --------------------------------------------------------------------------


def read_head(
    path: Path, *, rows: int = DEFAULT_SAMPLE_ROWS, sheet: str | None = None
) -> pl.DataFrame:
    """Read the header and the first ``rows`` rows of a universe file, every value as text."""
    from audit_kit.universe import ROW, open_universe

    universe = open_universe(Path(path), sheet=sheet)
    head = universe.collect(universe.scan(list(universe.columns)).head(rows))
    return head.drop(ROW, strict=False).select(pl.all().cast(pl.String))


# -- the plan ------------------------------------------------------------------------------------


def _scalar(value: str) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("\n...")
        .removesuffix("...")
        .strip()
    )


def _flow(values: Sequence[str]) -> str:
    return yaml.safe_dump(list(values), default_flow_style=True, width=10_000).strip()


def _columns_block(proposal: MappingProposal) -> list[str]:
    lines = [
        "columns:                        # audit-kit field: column of your file (audit-kit init)"
    ]
    entries: list[tuple[str, str]] = []
    for name, guess in proposal.fields.items():
        value = _scalar(guess.columns[0]) if len(guess.columns) == 1 else _flow(guess.columns)
        comment = f"review: guessed from {guess.reason}"
        if name == "patient":
            comment = "PHI: kept in sample.csv only, never in workbooks or PDFs; " + comment
        if guess.notes and name != "patient":
            comment += "; " + "; ".join(guess.notes)
        entries.append((f"  {name}: {value}", comment))
    if proposal.code_separator != ";":
        entries.append(
            (f"  code_separator: {_scalar(proposal.code_separator)}", "review: guessed from values")
        )
    if proposal.phi:
        kept = [c for g in proposal.phi for c in g.columns]
        reasons = "; ".join(f"{g.columns[0]}: {g.reason}" for g in proposal.phi)
        entries.append((f"  keep: {_flow(kept)}", "PHI columns must be kept to be marked"))
        entries.append(
            (
                f"  phi: {_flow(kept)}",
                f"PHI, never in workbooks or PDFs; review: guessed from {reasons}",
            )
        )
    # align the comments, but not behind one very long line (a 25-column dx list)
    width = min(max((len(e[0]) for e in entries), default=0), 34) + 2
    for text, comment in entries:
        lines.append(
            f"{text.ljust(width)}# {comment}" if len(text) < width else f"{text}  # {comment}"
        )
    if proposal.phi_not_kept:
        names = ", ".join(c for g in proposal.phi_not_kept for c in g.columns)
        lines.append(f"  # not kept (PHI the audit does not need, minimum necessary): {names}")
    if proposal.unmapped:
        lines.append(
            "  # not mapped: "
            + ", ".join(proposal.unmapped)
            + " (add a column to keep: [...] to carry it into sample.csv)"
        )
    for note in proposal.notes:
        lines.append(f"  # note: {note}")
    return lines


def _default_plan(proposal: MappingProposal, universe_name: str) -> str:
    fields = proposal.fields
    lines = [
        "# Sampling plan written by `audit-kit init` (no preset given).",
        "# Review every line marked '# review:', then run `audit-kit sample`.",
        f"name: Coding accuracy review of {universe_name}",
        "objective: Coding accuracy per coder against a 95% target; net financial impact.",
        "sampling_unit: encounter",
        "COLUMNS",
    ]
    if "paid" in fields:
        lines += ["frame:", "  filters:", '    - {column: paid, op: ">", value: 0}']
    if "coder" in fields:
        lines += [
            "design:",
            "  method: stratified",
            "  strata:",
            "    by: [coder]",
            "size:",
            "  per_stratum: 30             # 30 encounters per coder",
        ]
    else:
        lines += ["design:", "  method: simple", "size:", "  n: 100"]
    lines += [
        "spares: 0",
        "rng:",
        "  generator: pcg64            # pcg64 | ratstats; a seed is generated and recorded",
        "WORKBOOK",
        "financial:",
        "  basis: entered",
        "  netting: net",
        "  demand_rule: cms_one_sided_90",
        "scoring:",
        "  target_accuracy: 0.95",
        "  confidence: 0.90",
    ]
    return "\n".join(lines) + "\n"


_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")


def _replace_block(text: str, key: str, block: Sequence[str]) -> str:
    """Replace the top-level ``key:`` block of a YAML text (comments elsewhere kept)."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if (m := _TOP_KEY.match(line)) and m["key"] == key),
        None,
    )
    if start is None:
        return text.rstrip("\n") + "\n" + "\n".join(block) + "\n"
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.startswith((" ", "\t", "#")):
            break
        end += 1
    # keep the blank and comment lines that introduce the next block
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return "\n".join([*lines[:start], *block, *lines[end:]]) + "\n"


def _workbook_block(preset: Mapping[str, Any] | None, proposal: MappingProposal) -> list[str]:
    """The workbook section: the preset's columns (or a default) that the export has, no PHI."""
    options = dict((preset or {}).get("workbook") or {})
    chosen = [c for c in options.pop("columns", None) or _WORKBOOK_FIELDS if isinstance(c, str)]
    wanted = [c for c in chosen if c in proposal.fields and c != "patient"]
    lines = [
        "workbook:",
        f"  columns: {_flow(wanted)}   # what auditors see; never PHI (patient, phi)",
    ]
    if options:
        dumped = yaml.safe_dump(options, default_flow_style=False, sort_keys=False)
        lines += ["  " + line for line in dumped.splitlines()]
    return lines


def _drop_placeholder_note(text: str) -> str:
    """Remove a preset's "COLUMNS ARE PLACEHOLDERS" comment paragraph: init replaced them."""
    lines = text.splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        if "COLUMNS ARE PLACEHOLDERS" in line:
            skipping = True
        elif skipping and (not line.startswith("#") or line.strip() == "#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def plan_text(
    proposal: MappingProposal,
    *,
    preset_text: str | None = None,
    preset_name: str | None = None,
    universe_name: str = "the universe",
) -> str:
    """Return the commented plan: the preset (or a default) with the proposed mapping."""
    columns = _columns_block(proposal)
    if preset_text is None:
        text = _default_plan(proposal, universe_name)
        text = text.replace("COLUMNS\n", "\n".join(columns) + "\n")
        return text.replace("WORKBOOK\n", "\n".join(_workbook_block(None, proposal)) + "\n")
    header = [
        f"# Written by `audit-kit init` from the preset '{preset_name}' for {universe_name}.",
        "# The columns were guessed from your export: review every line marked '# review:',",
        "# then run `audit-kit sample`.",
    ]
    preset = yaml.safe_load(preset_text)
    text = _replace_block(_drop_placeholder_note(preset_text), "columns", columns)
    text = _replace_block(text, "workbook", _workbook_block(preset, proposal))
    return "\n".join(header) + "\n" + text


@dataclass(frozen=True, slots=True, kw_only=True)
class InitSummary:
    """What ``init`` did: the plan written, the mapping, and what is left to the user."""

    plan: Path
    universe: Path
    preset: str | None
    proposal: MappingProposal
    problems: tuple[Problem, ...]  # plan validation problems still to fix by hand
    next_command: str

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": str(self.plan),
            "universe": str(self.universe),
            "preset": self.preset,
            "mapping": self.proposal.to_dict(),
            "valid": self.valid,
            "problems": [p.to_dict() for p in self.problems],
            "next_command": self.next_command,
        }


def _preset_text(name: str) -> str:
    presets = list_presets()
    if name not in presets:
        raise PlanError(
            "No such preset.",
            [
                Problem(
                    where=f"--preset {name}",
                    expected="one of: " + (", ".join(presets) or "(no presets installed)"),
                    found=f"'{name}'",
                    fix="list the presets with `audit-kit plans`, or leave --preset out.",
                )
            ],
        )
    return presets[name].read_text("utf-8")


def write_plan(
    universe: Path,
    out: Path,
    *,
    preset: str | None = None,
    force: bool = False,
    rows: int = DEFAULT_SAMPLE_ROWS,
    sheet: str | None = None,
) -> InitSummary:
    """Read a universe export, propose its mapping and write a commented plan to ``out``.

    An existing ``out`` is refused unless ``force``. The plan is written even when it does not
    validate yet (a column nobody could guess); the summary lists what to fix.
    """
    out = Path(out)
    universe = Path(universe)
    if out.exists() and not force:
        raise AuditError(
            "Refusing to overwrite an existing plan.",
            [
                Problem(
                    where=str(out),
                    expected="a new file",
                    found="an existing file" if out.is_file() else "an existing folder",
                    fix="choose another --out, or pass --force to replace it.",
                )
            ],
        )
    if out.is_dir():
        raise AuditError(
            "Cannot write the plan.",
            [Problem(where=str(out), expected="a file path", found="a folder", fix="add a name.")],
        )
    preset_text = _preset_text(preset) if preset else None
    head = read_head(universe, rows=rows, sheet=sheet)
    proposal = guess_mapping(head)
    text = plan_text(
        proposal, preset_text=preset_text, preset_name=preset, universe_name=universe.name
    )
    problems: list[Problem] = []
    try:
        plan = parse_plan_text(text, source=str(out))
    except PlanError as exc:
        problems.extend(exc.problems)
    else:
        problems.extend(_workbook_phi_problems(plan, out))
    atomic_write_bytes(out, text.encode("utf-8"))
    next_command = (
        f"audit-kit sample --plan {out} --universe {universe} --out AUDIT_DIR"
        if not problems
        else f"edit {out} (see the problems above), then: "
        f"audit-kit sample --plan {out} --universe {universe} --out AUDIT_DIR"
    )
    return InitSummary(
        plan=out,
        universe=universe,
        preset=preset,
        proposal=proposal,
        problems=tuple(problems),
        next_command=next_command,
    )


def _workbook_phi_problems(plan: SamplingPlan, out: Path) -> Iterable[Problem]:
    phi = set(plan.columns.phi_columns())
    for entry in plan.workbook.columns:
        column = plan.column_for_safe(entry) if entry != "patient" else plan.columns.patient
        if entry == "patient" or (column is not None and column in phi):
            yield Problem(
                where=f"{out}: workbook.columns",
                expected="no PHI column (minimum necessary)",
                found=f"'{entry}'",
                fix="remove it from workbook.columns.",
            )
