"""Recognise columns by their header: synonyms per audit-kit field, PHI headers, repeated columns.

Headers are folded to lower-case letters and digits (``Acct #`` -> ``acct``) and looked up in the
synonym table of each field of :data:`audit_kit.plan.FIELDS`, the one list of fields a plan maps.
"""

from __future__ import annotations

import re

from audit_kit.plan import FIELDS

__all__ = [
    "DATE_RANK",
    "HEADERS",
    "PHI_HEADERS",
    "PHI_KEPT",
    "PRINCIPAL_DX",
    "REPEAT_PREFIX",
    "REPEAT_RE",
    "fold",
    "words",
]


def fold(header: str) -> str:
    """Fold a header for matching: lower-case letters and digits only (``Acct #`` -> ``acct``)."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def words(*items: str) -> frozenset[str]:
    return frozenset(fold(i) for text in items for i in text.split(","))


_SYNONYMS: dict[str, frozenset[str]] = {
    "unit_id": words(
        "encounter,encounter id,encounter no,encounter number,enc,enc id,enc no,enc nbr,"
        "acct,acct no,acct num,acct nbr,account,account no,account number,account num,"
        "patient account,patient account number,pat acct,claim,claim id,claim no,claim number,"
        "claim nbr,icn,tcn,visit,visit id,visit no,visit number,fin,fin nbr,har,har id,"
        "case id,case no,case number,unit id,line id,claim line id,record id,id"
    ),
    "coder": words(
        "coder,coder name,coder id,coded by,coder user,coder user id,coding user,abstractor,"
        "coder initials,hi coder,final coder,coding professional"
    ),
    "provider": words(
        "provider,provider name,provider id,provider npi,npi,rendering provider,rendering npi,"
        "rendering,attending,attending physician,attending provider,attending npi,attending md,"
        "physician,physician name,doctor,billing provider,surgeon,clinician,rendering name"
    ),
    "patient": words(
        "patient name,patient,pt name,pat name,name,member name,beneficiary,beneficiary name,"
        "patient full name,guarantor name,last name,patient last name,pt last name"
    ),
    "service_date": words(
        "service date,svc dt,svc date,date of service,dos,from date,service from date,"
        "svc from date,visit date,encounter date,discharge date,disch dt,disch date,"
        "discharge dt,through date,thru date,claim date,admit date,admission date,date"
    ),
    "setting": words(
        "setting,patient type,pt type,pat type,encounter type,enc type,patient class,"
        "pt class,visit type,claim type,service type,care setting,ip op,"
        "place of service,pos,pos code,pos cd,place of svc,place of service code,"
        "facility type,type of service,tos"
    ),
    "payer": words(
        "payer,payor,payer name,payor name,financial class,fin class,fc,insurance,insurance name,"
        "primary payer,primary payor,primary insurance,plan,plan name,health plan,carrier"
    ),
    "dx": words(
        "dx,dx codes,dxs,diagnosis,diagnoses,diagnosis codes,diagnosis code,dx code,icd10,"
        "icd 10 cm,icd10cm,icd codes,icd,dx list,all dx,diagnosis list"
    ),
    "px": words(
        "px,px codes,procedures,icd10pcs,icd 10 pcs,pcs,pcs codes,icd procedures,"
        "icd procedure codes,proc codes,procedure list,icd px"
    ),
    "cpt": words(
        "cpt,cpts,cpt codes,cpt code,hcpcs,hcpcs codes,hcpcs code,cpt hcpcs,cpt/hcpcs,"
        "cpt hcpcs codes,procedure code,procedure codes,proc code,service code,billing codes,"
        "charge codes"
    ),
    "units": words("units,unit,qty,quantity,service units,svc units,units of service,days units"),
    "drg": words("drg,ms drg,msdrg,drg code,final drg,drg no,drg number,billed drg,ms-drg"),
    "billed": words(
        "billed,billed amount,billed amt,charges,total charges,total charge,charge,charge amount,"
        "charge amt,billed charges,gross charges,submitted charges,amount billed,total billed"
    ),
    "paid": words(
        "paid,paid amount,paid amt,total paid,payment,payments,payment amount,reimbursement,"
        "amount paid,net paid,pmt,pmt amt,total payment,paid total,insurance paid,reimbursed"
    ),
    "auditor": words("auditor,auditor name,reviewer,reviewer name,assigned auditor"),
    "age": words("age,patient age,pt age,age years,age at service,age at admission"),
    "sex": words("sex,gender,patient sex,pt sex,patient gender"),
    "discharge_status": words(
        "discharge status,discharge disposition,disposition,disch status,disch disp,"
        "patient status,discharge disp,dc status,dc disp"
    ),
    "birth_date": words("birth date,date of birth,dob,birthdate,member dob,patient dob"),
    "orec": words("orec,original reason for entitlement,original entitlement reason,orig reason"),
    "dual_status": words("dual status,dual,dual eligibility,dual eligible,dual code,medicaid dual"),
    "institutional": words("institutional,lti,long term institutional,institutional status,ltc"),
    "months": words("months,months enrolled,member months,enrollment months,mm"),
}


#: Synonyms per field of plan.FIELDS, folded, in the order of FIELDS: the first field whose set
#: holds a folded header wins. A field without synonyms is an error at import (KeyError).
HEADERS: dict[str, frozenset[str]] = {name: _SYNONYMS[name] for name in FIELDS}

# Lower numbers win when several columns match one field by header.
_DATE_PREFERENCE = (
    "service date,svc dt,svc date,date of service,dos,from date,service from date,"
    "svc from date,visit date,encounter date,discharge date,disch dt,disch date,"
    "discharge dt,through date,thru date,claim date,admit date,admission date,date"
)


DATE_RANK = {fold(h): i for i, h in enumerate(_DATE_PREFERENCE.split(","))}


PRINCIPAL_DX = words(
    "pdx,principal dx,principal diagnosis,principal diag,primary dx,primary diagnosis,prin dx,"
    "principal icd,dx principal,first listed dx"
)


PHI_HEADERS: dict[str, frozenset[str]] = {
    "mrn": words(
        "mrn,medical record number,medical record no,med rec no,med rec num,medical record,"
        "mr no,mr number,mr num,chart number,chart no,patient id,pat id,pt id,member id,"
        "subscriber id,mbi,hicn,medicare id,medicaid id,insurance id,policy number,policy no"
    ),
    "dob": words("dob,date of birth,birth date,birthdate,birth dt,pt dob,patient dob"),
    "name": words(
        "first name,patient first name,pt first name,middle name,given name,guarantor,"
        "subscriber name,insured name,responsible party"
    ),
    "ssn": words("ssn,social security number,social security,social security no,ss no,ssn4"),
    "address": words(
        "address,street,street address,address 1,address 2,address1,address2,addr,"
        "patient address,home address,city,zip,zip code,postal code,zipcode"
    ),
    "phone": words("phone,phone number,telephone,home phone,cell phone,mobile,tel,contact phone"),
    "email": words("email,e mail,email address,patient email"),
}


#: PHI kinds the audit may need (record retrieval) and therefore keeps; the others are not kept.
PHI_KEPT = ("mrn", "dob", "name")


# Repeated code columns: folded prefix -> field (``DX1``, ``Diag 2``, ``CPT_3``, ``Proc4``).
REPEAT_PREFIX = {
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


REPEAT_RE = re.compile(r"^(?P<prefix>.*?[A-Za-z])[\s_#-]*(?P<n>\d{1,2})$")
