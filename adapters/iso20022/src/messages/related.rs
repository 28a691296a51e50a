//! Building blocks shared by the messages that refer to an earlier payment (pacs.004,
//! pacs.028, camt.056, camt.029): the original references, a coded reason, a party that is
//! either an agent or a named party, and the case assignment of the camt investigations.

use crate::envelope::Parts;
use crate::error::ValidationError;
use crate::messages::fields::{agent, text_at, ClearingMember};
use crate::rule::Rule;
use crate::schema::lexical::boolean_value;
use crate::types::bic::Bic;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// References to the original message and transaction (`OrgnlGrpInf`, `Orgnl*Id`, `OrgnlUETR`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginalRef {
    /// `OrgnlGrpInf/OrgnlMsgId` (written only together with `orgnl_msg_nm_id`).
    pub orgnl_msg_id: Option<Text>,
    /// `OrgnlGrpInf/OrgnlMsgNmId`, e.g. `pacs.008.001.08`.
    pub orgnl_msg_nm_id: Option<Text>,
    pub orgnl_cre_dt_tm: Option<Text>,
    pub orgnl_instr_id: Option<Text>,
    pub orgnl_end_to_end_id: Option<Text>,
    pub orgnl_tx_id: Option<Text>,
    pub orgnl_uetr: Option<Uetr>,
}

/// A coded reason (`Rsn/Cd` or `Rsn/Prtry`) with its first `AddtlInf`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reason {
    pub cd: Option<Text>,
    pub prtry: Option<Text>,
    pub addtl_inf: Option<Text>,
}

impl Reason {
    /// The reason as written: `Rsn/Cd`, else `Rsn/Prtry`.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.cd.as_deref().or(self.prtry.as_deref())
    }
}

/// A `Party40Choice`: an agent (BIC and/or clearing member id) or a party with a name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyRef {
    pub bic: Option<Bic>,
    pub mmb: Option<ClearingMember>,
    /// `Agt/FinInstnId/Nm` of an agent, else `Pty/Nm`.
    pub name: Option<Text>,
    /// The party is an agent (`Agt`) even when only its name identifies it; one with a BIC
    /// or a member id always is.
    pub is_agent: bool,
}

/// A `Case5`: an investigation case (`Id`, its creator, whether it is reopened).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Case {
    pub id: Text,
    pub cretr: PartyRef,
    pub reop_case_indctn: Option<bool>,
}

/// `Assgnmt` of camt.056 / camt.029.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub id: Text,
    pub assgnr: PartyRef,
    pub assgne: PartyRef,
    pub cre_dt_tm: Text,
}

/// The Document root element (`<Document><root>`) of `family`, or a typed error.
pub(crate) fn document_root(parts: &Parts<'_>, family: &str, root: &str) -> Result<u32, ValidationError> {
    let (doc, s) = parts.document.ok_or_else(|| Rule::WrongMessageType.at("/", "no Document"))?;
    if !s.msg_def.starts_with(family) {
        return Err(Rule::WrongMessageType.at("/Document", format!("expected {family}, found {}", s.msg_def)));
    }
    parts.tree.child(doc, root).ok_or_else(|| Rule::WrongMessageType.at("/Document", format!("no {root}")))
}

pub(crate) fn read_original(tree: &Tree<'_>, node: u32) -> OriginalRef {
    let t = |p: &str| text_at(tree, node, p);
    OriginalRef {
        orgnl_msg_id: t("OrgnlGrpInf/OrgnlMsgId"),
        orgnl_msg_nm_id: t("OrgnlGrpInf/OrgnlMsgNmId"),
        orgnl_cre_dt_tm: t("OrgnlGrpInf/OrgnlCreDtTm"),
        orgnl_instr_id: t("OrgnlInstrId"),
        orgnl_end_to_end_id: t("OrgnlEndToEndId"),
        orgnl_tx_id: t("OrgnlTxId"),
        orgnl_uetr: t("OrgnlUETR").and_then(|u| Uetr::parse(&u)),
    }
}

/// Writes `OrgnlGrpInf` (when both ids are present).
pub(crate) fn write_original_group(w: &mut XmlWriter, o: &OriginalRef) {
    if let (Some(id), Some(nm)) = (&o.orgnl_msg_id, &o.orgnl_msg_nm_id) {
        w.open("OrgnlGrpInf");
        w.leaf("OrgnlMsgId", id);
        w.leaf("OrgnlMsgNmId", nm);
        w.opt("OrgnlCreDtTm", o.orgnl_cre_dt_tm.as_deref());
        w.close("OrgnlGrpInf");
    }
}

/// Writes `OrgnlInstrId`, `OrgnlEndToEndId`, `OrgnlTxId` (the UETR position differs per message).
pub(crate) fn write_original_ids(w: &mut XmlWriter, o: &OriginalRef) {
    w.opt("OrgnlInstrId", o.orgnl_instr_id.as_deref());
    w.opt("OrgnlEndToEndId", o.orgnl_end_to_end_id.as_deref());
    w.opt("OrgnlTxId", o.orgnl_tx_id.as_deref());
}

/// The reason of `parent`'s `block` elements (`RtrRsnInf`, `CxlRsnInf`, ...): the `Rsn` of the
/// first block that gives one (the validator accepts a reason in any block, so the model
/// carries it from any block) and the first `AddtlInf`.
pub(crate) fn read_reason(tree: &Tree<'_>, parent: u32, block: &str) -> Reason {
    let rsn = tree.children_named(parent, block).find_map(|b| tree.child(b, "Rsn"));
    Reason {
        cd: rsn.and_then(|r| text_at(tree, r, "Cd")),
        prtry: rsn.and_then(|r| text_at(tree, r, "Prtry")),
        addtl_inf: tree.children_named(parent, block).find_map(|b| text_at(tree, b, "AddtlInf")),
    }
}

/// Writes `<name>[Rsn][AddtlInf]</name>` when the reason has any content.
pub(crate) fn write_reason(w: &mut XmlWriter, name: &str, r: &Reason) {
    if r.cd.is_none() && r.prtry.is_none() && r.addtl_inf.is_none() {
        return;
    }
    w.open(name);
    if r.cd.is_some() || r.prtry.is_some() {
        w.open("Rsn");
        match &r.cd {
            Some(c) => w.leaf("Cd", c),
            None => w.opt("Prtry", r.prtry.as_deref()),
        }
        w.close("Rsn");
    }
    w.opt("AddtlInf", r.addtl_inf.as_deref());
    w.close(name);
}

pub(crate) fn read_party(tree: &Tree<'_>, node: Option<u32>) -> PartyRef {
    let Some(n) = node else { return PartyRef::default() };
    if let Some(a) = tree.child(n, "Agt") {
        let (bic, mmb) = agent(tree, Some(a));
        return PartyRef { bic, mmb, name: text_at(tree, a, "FinInstnId/Nm"), is_agent: true };
    }
    PartyRef { bic: None, mmb: None, name: text_at(tree, n, "Pty/Nm"), is_agent: false }
}

/// A `Case5` element.
pub(crate) fn read_case(tree: &Tree<'_>, node: u32) -> Case {
    Case {
        id: text_at(tree, node, "Id").unwrap_or_default(),
        cretr: read_party(tree, tree.child(node, "Cretr")),
        reop_case_indctn: text_at(tree, node, "ReopCaseIndctn").map(|v| boolean_value(&v)),
    }
}

pub(crate) fn write_case(w: &mut XmlWriter, name: &str, c: &Case) {
    w.open(name);
    w.leaf("Id", &c.id);
    write_party(w, "Cretr", &c.cretr);
    w.opt("ReopCaseIndctn", c.reop_case_indctn.map(xml_bool));
    w.close(name);
}

/// The canonical `xs:boolean` text.
pub(crate) fn xml_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

pub(crate) fn write_party(w: &mut XmlWriter, name: &str, p: &PartyRef) {
    w.open(name);
    if p.is_agent || p.bic.is_some() || p.mmb.is_some() {
        w.open("Agt");
        w.open("FinInstnId");
        w.opt("BICFI", p.bic.as_ref().map(Bic::as_str));
        if let Some(m) = &p.mmb {
            w.open("ClrSysMmbId");
            if let Some(cd) = &m.clr_sys_cd {
                w.open("ClrSysId");
                w.leaf("Cd", cd);
                w.close("ClrSysId");
            }
            w.leaf("MmbId", &m.mmb_id);
            w.close("ClrSysMmbId");
        }
        w.opt("Nm", p.name.as_deref());
        w.close("FinInstnId");
        w.close("Agt");
    } else {
        w.open("Pty");
        w.opt("Nm", p.name.as_deref());
        w.close("Pty");
    }
    w.close(name);
}

pub(crate) fn read_assignment(tree: &Tree<'_>, root: u32) -> Assignment {
    let Some(a) = tree.child(root, "Assgnmt") else { return Assignment::default() };
    Assignment {
        id: text_at(tree, a, "Id").unwrap_or_default(),
        assgnr: read_party(tree, tree.child(a, "Assgnr")),
        assgne: read_party(tree, tree.child(a, "Assgne")),
        cre_dt_tm: text_at(tree, a, "CreDtTm").unwrap_or_default(),
    }
}

pub(crate) fn write_assignment(w: &mut XmlWriter, a: &Assignment) {
    w.open("Assgnmt");
    w.leaf("Id", &a.id);
    write_party(w, "Assgnr", &a.assgnr);
    write_party(w, "Assgne", &a.assgne);
    w.leaf("CreDtTm", &a.cre_dt_tm);
    w.close("Assgnmt");
}

#[cfg(test)]
mod tests {
    use super::Reason;

    /// The code is `Cd` when there is one, else `Prtry`, and nothing without either.
    #[test]
    fn reason_code_prefers_the_iso_code() {
        let mut r = Reason { addtl_inf: Some("free text".into()), ..Reason::default() };
        assert_eq!(r.code(), None);
        r.prtry = Some("RETURNED".into());
        assert_eq!(r.code(), Some("RETURNED"));
        r.cd = Some("AC04".into());
        assert_eq!(r.code(), Some("AC04"));
    }
}
