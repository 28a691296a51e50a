//! The head.001 Business Application Header (versions .01, .02, .04): typed model, reader
//! and writer (head.001.001.02, the CBPR+/FedNow version, unless the model says otherwise).

use crate::messages::fields::{agent, own_text, write_agent, ClearingMember};
use crate::types::bic::Bic;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// head.001 version.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeadVersion {
    /// head.001.001.01.
    V01,
    /// head.001.001.02 (what the writers produce).
    #[default]
    V02,
    /// head.001.001.04.
    V04,
}

impl HeadVersion {
    /// `head.001.001.02` etc.
    #[must_use]
    pub fn msg_def(self) -> &'static str {
        match self {
            HeadVersion::V01 => "head.001.001.01",
            HeadVersion::V02 => "head.001.001.02",
            HeadVersion::V04 => "head.001.001.04",
        }
    }

    pub(crate) fn of(msg_def: &str) -> HeadVersion {
        match msg_def {
            "head.001.001.01" => HeadVersion::V01,
            "head.001.001.04" => HeadVersion::V04,
            _ => HeadVersion::V02,
        }
    }
}

/// Business Application Header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppHdr {
    /// `Fr/FIId/FinInstnId/BICFI`.
    pub fr_bic: Option<Bic>,
    /// `Fr/FIId/FinInstnId/ClrSysMmbId`.
    pub fr_mmb: Option<ClearingMember>,
    /// `To/FIId/FinInstnId/BICFI`.
    pub to_bic: Option<Bic>,
    /// `To/FIId/FinInstnId/ClrSysMmbId`.
    pub to_mmb: Option<ClearingMember>,
    /// `BizMsgIdr`.
    pub biz_msg_idr: Text,
    /// `MsgDefIdr`, e.g. `pacs.008.001.08`, as read. The writers write the message of the
    /// Document they write with the header instead (the two must agree, `bah.msgdefidr`).
    pub msg_def_idr: Text,
    /// `BizSvc`, e.g. `swift.cbprplus.02`.
    pub biz_svc: Option<Text>,
    /// `MktPrctc/Regy` and `MktPrctc/Id`.
    pub mkt_prctc: Option<(Text, Text)>,
    /// `CreDt` (ISO date-time text as given).
    pub cre_dt: Text,
    /// `CpyDplct` (`CODU`, `COPY`, `DUPL`).
    pub cpy_dplct: Option<Text>,
    /// `PssblDplct`.
    pub pssbl_dplct: bool,
    /// `Prty`.
    pub prty: Option<Text>,
    /// The version read; the writer emits this version (head.001.001.02 by default).
    pub version: HeadVersion,
}

pub(crate) fn read_app_hdr(tree: &Tree<'_>, node: u32, msg_def: &str) -> AppHdr {
    let [fr, to, biz_msg_idr, msg_def_idr, biz_svc, mkt_prctc, cre_dt, cpy_dplct, pssbl_dplct, prty] = tree
        .kids(
            node,
            [
                "Fr",
                "To",
                "BizMsgIdr",
                "MsgDefIdr",
                "BizSvc",
                "MktPrctc",
                "CreDt",
                "CpyDplct",
                "PssblDplct",
                "Prty",
            ],
        );
    let party = |p: Option<u32>| agent(tree, p.and_then(|p| tree.child(p, "FIId")));
    let (fr_bic, fr_mmb) = party(fr);
    let (to_bic, to_mmb) = party(to);
    let mkt_prctc = mkt_prctc.map(|m| {
        let [regy, id] = tree.kids(m, ["Regy", "Id"]);
        (own_text(tree, regy).unwrap_or_default(), own_text(tree, id).unwrap_or_default())
    });
    AppHdr {
        fr_bic,
        fr_mmb,
        to_bic,
        to_mmb,
        biz_msg_idr: own_text(tree, biz_msg_idr).unwrap_or_default(),
        msg_def_idr: own_text(tree, msg_def_idr).unwrap_or_default(),
        biz_svc: own_text(tree, biz_svc),
        mkt_prctc,
        cre_dt: own_text(tree, cre_dt).unwrap_or_default(),
        cpy_dplct: own_text(tree, cpy_dplct),
        pssbl_dplct: pssbl_dplct.is_some_and(|p| matches!(tree.text(p).trim(), "true" | "1")),
        prty: own_text(tree, prty),
        version: HeadVersion::of(msg_def),
    }
}

fn write_party(w: &mut XmlWriter, name: &str, bic: Option<&Bic>, mmb: Option<&ClearingMember>) {
    w.open(name);
    if bic.is_some() || mmb.is_some() {
        write_agent(w, "FIId", bic, mmb);
    } else {
        w.open("OrgId");
        w.close("OrgId");
    }
    w.close(name);
}

/// Writes the header in its version (`MktPrctc` does not exist in head.001.001.01), naming
/// `msg_def`, the message of the Document written with it.
pub(crate) fn write_app_hdr(w: &mut XmlWriter, h: &AppHdr, msg_def: &str) {
    let ns = format!("urn:iso:std:iso:20022:tech:xsd:{}", h.version.msg_def());
    w.open_ns("AppHdr", &ns);
    write_party(w, "Fr", h.fr_bic.as_ref(), h.fr_mmb.as_ref());
    write_party(w, "To", h.to_bic.as_ref(), h.to_mmb.as_ref());
    w.leaf("BizMsgIdr", &h.biz_msg_idr);
    w.leaf("MsgDefIdr", msg_def);
    w.opt("BizSvc", h.biz_svc.as_deref());
    if let Some((regy, id)) = h.mkt_prctc.as_ref().filter(|_| h.version != HeadVersion::V01) {
        w.open("MktPrctc");
        w.leaf("Regy", regy);
        w.leaf("Id", id);
        w.close("MktPrctc");
    }
    w.leaf("CreDt", &h.cre_dt);
    w.opt("CpyDplct", h.cpy_dplct.as_deref());
    if h.pssbl_dplct {
        w.leaf("PssblDplct", "true");
    }
    w.opt("Prty", h.prty.as_deref());
    w.close("AppHdr");
}
