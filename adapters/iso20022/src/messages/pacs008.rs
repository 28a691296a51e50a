//! pacs.008 FI-to-FI customer credit transfer: typed model, reader (.001.08, .001.10 and the
//! legacy .001.02 read through the same model) and writer (pacs.008.001.08).

use crate::envelope::{parse_parts, Parts};
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::fields::{
    agent, money, own_text, texts_of, write_agent, write_agent_opt, write_code_choice, write_money,
    write_ustrd, ClearingMember,
};
use crate::rule::Rule;
use crate::types::bic::Bic;
use crate::types::money::Money;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A pacs.008 message (group header + transactions), optionally with its AppHdr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacs008 {
    pub app_hdr: Option<AppHdr>,
    pub msg_id: Text,
    pub cre_dt_tm: Text,
    pub nb_of_txs: u32,
    /// `CtrlSum` as decimal text (no floats).
    pub ctrl_sum: Option<Text>,
    pub ttl_intr_bk_sttlm_amt: Option<Money>,
    /// Group-level `IntrBkSttlmDt`.
    pub intr_bk_sttlm_dt: Option<Text>,
    /// `SttlmInf/SttlmMtd` (`INDA`, `INGA`, `COVE`, `CLRG`).
    pub sttlm_mtd: Text,
    /// `SttlmInf/ClrSys/Cd`.
    pub clr_sys: Option<Text>,
    /// `SttlmInf/ClrSys/Prtry`.
    pub clr_sys_prtry: Option<Text>,
    /// Group-level `InstgAgt`/`InstdAgt` BICs.
    pub grp_instg_agt: Option<Bic>,
    pub grp_instd_agt: Option<Bic>,
    pub txs: Vec<CreditTransferTx>,
}

/// One `CdtTrfTxInf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransferTx {
    pub instr_id: Option<Text>,
    pub end_to_end_id: Text,
    pub tx_id: Option<Text>,
    pub uetr: Option<Uetr>,
    pub clr_sys_ref: Option<Text>,
    /// `PmtTpInf/SvcLvl/Cd` (first).
    pub svc_lvl_cd: Option<Text>,
    pub lcl_instrm_cd: Option<Text>,
    pub lcl_instrm_prtry: Option<Text>,
    pub ctgy_purp_cd: Option<Text>,
    pub ctgy_purp_prtry: Option<Text>,
    /// `IntrBkSttlmAmt`.
    pub amount: Money,
    pub intr_bk_sttlm_dt: Option<Text>,
    pub instd_amt: Option<Money>,
    /// `XchgRate` as decimal text.
    pub xchg_rate: Option<Text>,
    /// `ChrgBr` (`DEBT`, `CRED`, `SHAR`, `SLEV`); written as `SHAR` when absent.
    pub chrg_br: Option<Text>,
    pub instg_agt: Option<Bic>,
    pub instg_agt_mmb: Option<ClearingMember>,
    pub instd_agt: Option<Bic>,
    pub instd_agt_mmb: Option<ClearingMember>,
    pub intrmy_agt1: Option<Bic>,
    pub dbtr_name: Option<Text>,
    pub dbtr_iban: Option<Text>,
    /// `DbtrAcct/Id/Othr/Id`.
    pub dbtr_acct_othr: Option<Text>,
    pub dbtr_agt: Option<Bic>,
    pub dbtr_agt_mmb: Option<ClearingMember>,
    pub cdtr_agt: Option<Bic>,
    pub cdtr_agt_mmb: Option<ClearingMember>,
    pub cdtr_name: Option<Text>,
    pub cdtr_iban: Option<Text>,
    /// `CdtrAcct/Id/Othr/Id`.
    pub cdtr_acct_othr: Option<Text>,
    /// `Purp/Cd`.
    pub purp_cd: Option<Text>,
    /// `RmtInf/Ustrd` lines.
    pub rmt_inf_ustrd: Vec<Text>,
}

impl Pacs008 {
    /// A message with the mandatory group fields set and everything optional empty.
    #[must_use]
    pub fn new(msg_id: impl Into<Text>, cre_dt_tm: impl Into<Text>, sttlm_mtd: impl Into<Text>) -> Self {
        Pacs008 {
            app_hdr: None,
            msg_id: msg_id.into(),
            cre_dt_tm: cre_dt_tm.into(),
            nb_of_txs: 0,
            ctrl_sum: None,
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_mtd: sttlm_mtd.into(),
            clr_sys: None,
            clr_sys_prtry: None,
            grp_instg_agt: None,
            grp_instd_agt: None,
            txs: Vec::new(),
        }
    }
}

impl CreditTransferTx {
    /// A transaction with its end-to-end id and settlement amount; everything else empty.
    #[must_use]
    pub fn new(end_to_end_id: impl Into<Text>, amount: Money) -> Self {
        CreditTransferTx {
            instr_id: None,
            end_to_end_id: end_to_end_id.into(),
            tx_id: None,
            uetr: None,
            clr_sys_ref: None,
            svc_lvl_cd: None,
            lcl_instrm_cd: None,
            lcl_instrm_prtry: None,
            ctgy_purp_cd: None,
            ctgy_purp_prtry: None,
            amount,
            intr_bk_sttlm_dt: None,
            instd_amt: None,
            xchg_rate: None,
            chrg_br: None,
            instg_agt: None,
            instg_agt_mmb: None,
            instd_agt: None,
            instd_agt_mmb: None,
            intrmy_agt1: None,
            dbtr_name: None,
            dbtr_iban: None,
            dbtr_acct_othr: None,
            dbtr_agt: None,
            dbtr_agt_mmb: None,
            cdtr_agt: None,
            cdtr_agt_mmb: None,
            cdtr_name: None,
            cdtr_iban: None,
            cdtr_acct_othr: None,
            purp_cd: None,
            rmt_inf_ustrd: Vec::new(),
        }
    }
}

/// Reads and fully validates a pacs.008 (bare Document, or AppHdr + Document in an envelope).
///
/// # Errors
/// The first failure found, with its reason code and path.
pub fn read_pacs008(input: &[u8], limits: &Limits) -> Result<Pacs008, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let (doc, s) = parts.document.ok_or_else(|| Rule::WrongMessageType.at("/", "no Document"))?;
    if !s.msg_def.starts_with("pacs.008") {
        return Err(Rule::WrongMessageType.at("/Document", format!("expected pacs.008, found {}", s.msg_def)));
    }
    read_model(&parts, doc)
}

fn read_model(parts: &Parts<'_>, doc: u32) -> Result<Pacs008, ValidationError> {
    let tree = &parts.tree;
    let root = tree
        .child(doc, "FIToFICstmrCdtTrf")
        .ok_or_else(|| Rule::WrongMessageType.at("/Document", "no FIToFICstmrCdtTrf"))?;
    let grp =
        tree.child(root, "GrpHdr").ok_or_else(|| Rule::XsdMissingElement.at("/Document", "no GrpHdr"))?;
    let txs =
        tree.children_named(root, "CdtTrfTxInf").map(|c| read_tx(tree, c)).collect::<Result<Vec<_>, _>>()?;
    let [msg_id, cre_dt_tm, nb_of_txs, ctrl_sum, ttl, sttlm_dt, sttlm_inf, instg_agt, instd_agt] = tree.kids(
        grp,
        [
            "MsgId",
            "CreDtTm",
            "NbOfTxs",
            "CtrlSum",
            "TtlIntrBkSttlmAmt",
            "IntrBkSttlmDt",
            "SttlmInf",
            "InstgAgt",
            "InstdAgt",
        ],
    );
    let [sttlm_mtd, clr_sys] = sttlm_inf.map_or([None; 2], |s| tree.kids(s, ["SttlmMtd", "ClrSys"]));
    let [clr_sys_cd, clr_sys_prtry] = clr_sys.map_or([None; 2], |c| tree.kids(c, ["Cd", "Prtry"]));
    Ok(Pacs008 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        msg_id: own_text(tree, msg_id).unwrap_or_default(),
        cre_dt_tm: own_text(tree, cre_dt_tm).unwrap_or_default(),
        nb_of_txs: nb_of_txs.and_then(|n| tree.text(n).parse().ok()).unwrap_or(0),
        ctrl_sum: own_text(tree, ctrl_sum),
        ttl_intr_bk_sttlm_amt: ttl.map(|n| money(tree, n)).transpose()?,
        intr_bk_sttlm_dt: own_text(tree, sttlm_dt),
        sttlm_mtd: own_text(tree, sttlm_mtd).unwrap_or_default(),
        clr_sys: own_text(tree, clr_sys_cd),
        clr_sys_prtry: own_text(tree, clr_sys_prtry),
        grp_instg_agt: agent(tree, instg_agt).0,
        grp_instd_agt: agent(tree, instd_agt).0,
        txs,
    })
}

/// The direct children of one `CdtTrfTxInf` the model reads, found in one pass.
#[derive(Default)]
struct TxKids {
    pmt_id: Option<u32>,
    pmt_tp_inf: Option<u32>,
    amt: Option<u32>,
    sttlm_dt: Option<u32>,
    instd_amt: Option<u32>,
    xchg_rate: Option<u32>,
    chrg_br: Option<u32>,
    instg_agt: Option<u32>,
    instd_agt: Option<u32>,
    intrmy_agt1: Option<u32>,
    dbtr: Option<u32>,
    dbtr_acct: Option<u32>,
    dbtr_agt: Option<u32>,
    cdtr_agt: Option<u32>,
    cdtr: Option<u32>,
    cdtr_acct: Option<u32>,
    purp: Option<u32>,
    rmt_inf: Option<u32>,
}

impl TxKids {
    fn of(tree: &Tree<'_>, tx: u32) -> TxKids {
        let mut k = TxKids::default();
        for c in tree.children(tx) {
            let slot = match tree.nodes[c as usize].local {
                "PmtId" => &mut k.pmt_id,
                "PmtTpInf" => &mut k.pmt_tp_inf,
                "IntrBkSttlmAmt" => &mut k.amt,
                "IntrBkSttlmDt" => &mut k.sttlm_dt,
                "InstdAmt" => &mut k.instd_amt,
                "XchgRate" => &mut k.xchg_rate,
                "ChrgBr" => &mut k.chrg_br,
                "InstgAgt" => &mut k.instg_agt,
                "InstdAgt" => &mut k.instd_agt,
                "IntrmyAgt1" => &mut k.intrmy_agt1,
                "Dbtr" => &mut k.dbtr,
                "DbtrAcct" => &mut k.dbtr_acct,
                "DbtrAgt" => &mut k.dbtr_agt,
                "CdtrAgt" => &mut k.cdtr_agt,
                "Cdtr" => &mut k.cdtr,
                "CdtrAcct" => &mut k.cdtr_acct,
                "Purp" => &mut k.purp,
                "RmtInf" => &mut k.rmt_inf,
                _ => continue,
            };
            *slot = Some(c);
        }
        k
    }
}

/// `Cd` and `Prtry` of an optional code choice element.
fn code_choice(tree: &Tree<'_>, node: Option<u32>) -> [Option<Text>; 2] {
    let [cd, prtry] = node.map_or([None; 2], |n| tree.kids(n, ["Cd", "Prtry"]));
    [own_text(tree, cd), own_text(tree, prtry)]
}

/// `Id/IBAN` and `Id/Othr/Id` of an optional account element.
fn account(tree: &Tree<'_>, acct: Option<u32>) -> [Option<Text>; 2] {
    let Some(id) = acct.and_then(|a| tree.child(a, "Id")) else { return [None, None] };
    let [iban, othr] = tree.kids(id, ["IBAN", "Othr"]);
    [own_text(tree, iban), own_text(tree, othr.and_then(|o| tree.child(o, "Id")))]
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> Result<CreditTransferTx, ValidationError> {
    let k = TxKids::of(tree, tx);
    let amt = k.amt.ok_or_else(|| Rule::XsdMissingElement.at(tree.path(tx), "no IntrBkSttlmAmt"))?;
    let (instg_agt, instg_agt_mmb) = agent(tree, k.instg_agt);
    let (instd_agt, instd_agt_mmb) = agent(tree, k.instd_agt);
    let (dbtr_agt, dbtr_agt_mmb) = agent(tree, k.dbtr_agt);
    let (cdtr_agt, cdtr_agt_mmb) = agent(tree, k.cdtr_agt);
    let [instr_id, end_to_end_id, tx_id, uetr, clr_sys_ref] =
        k.pmt_id.map_or([None; 5], |p| tree.kids(p, ["InstrId", "EndToEndId", "TxId", "UETR", "ClrSysRef"]));
    let [svc_lvl, lcl_instrm, ctgy_purp] =
        k.pmt_tp_inf.map_or([None; 3], |p| tree.kids(p, ["SvcLvl", "LclInstrm", "CtgyPurp"]));
    let [svc_lvl_cd, _] = code_choice(tree, svc_lvl);
    let [lcl_instrm_cd, lcl_instrm_prtry] = code_choice(tree, lcl_instrm);
    let [ctgy_purp_cd, ctgy_purp_prtry] = code_choice(tree, ctgy_purp);
    let [dbtr_iban, dbtr_acct_othr] = account(tree, k.dbtr_acct);
    let [cdtr_iban, cdtr_acct_othr] = account(tree, k.cdtr_acct);
    let name = |party: Option<u32>| own_text(tree, party.and_then(|p| tree.child(p, "Nm")));
    Ok(CreditTransferTx {
        instr_id: own_text(tree, instr_id),
        end_to_end_id: own_text(tree, end_to_end_id).unwrap_or_default(),
        tx_id: own_text(tree, tx_id),
        uetr: uetr.and_then(|u| Uetr::parse(&tree.text(u))),
        clr_sys_ref: own_text(tree, clr_sys_ref),
        svc_lvl_cd,
        lcl_instrm_cd,
        lcl_instrm_prtry,
        ctgy_purp_cd,
        ctgy_purp_prtry,
        amount: money(tree, amt)?,
        intr_bk_sttlm_dt: own_text(tree, k.sttlm_dt),
        instd_amt: k.instd_amt.map(|a| money(tree, a)).transpose()?,
        xchg_rate: own_text(tree, k.xchg_rate),
        chrg_br: own_text(tree, k.chrg_br),
        instg_agt,
        instg_agt_mmb,
        instd_agt,
        instd_agt_mmb,
        intrmy_agt1: agent(tree, k.intrmy_agt1).0,
        dbtr_name: name(k.dbtr),
        dbtr_iban,
        dbtr_acct_othr,
        dbtr_agt,
        dbtr_agt_mmb,
        cdtr_agt,
        cdtr_agt_mmb,
        cdtr_name: name(k.cdtr),
        cdtr_iban,
        cdtr_acct_othr,
        purp_cd: own_text(tree, k.purp.and_then(|p| tree.child(p, "Cd"))),
        rmt_inf_ustrd: k.rmt_inf.map(|r| texts_of(tree, r, "Ustrd")).unwrap_or_default(),
    })
}

/// pacs.008.001.08 namespace.
pub const PACS008_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";

/// Writes a pacs.008.001.08 Document; with an AppHdr, both go inside an
/// `<Envelope xmlns="urn:switchyard:xsd:envelope">` (see [`crate::ENVELOPE_NAMESPACE`]).
#[must_use]
pub fn write_pacs008(msg: &Pacs008) -> Vec<u8> {
    crate::messages::envelope_writer::write_with_header(msg.app_hdr.as_ref(), PACS008_NS, |w| {
        write_document(w, msg);
    })
}

/// Writes only the pacs.008.001.08 Document (no AppHdr, no envelope).
#[must_use]
pub fn write_pacs008_document(msg: &Pacs008) -> Vec<u8> {
    crate::messages::envelope_writer::write_with_header(None, PACS008_NS, |w| write_document(w, msg))
}

fn write_document(w: &mut XmlWriter, m: &Pacs008) {
    w.open_ns("Document", PACS008_NS);
    w.open("FIToFICstmrCdtTrf");
    write_group(w, m);
    for tx in &m.txs {
        write_tx(w, tx);
    }
    w.close("FIToFICstmrCdtTrf");
    w.close("Document");
}

fn write_group(w: &mut XmlWriter, m: &Pacs008) {
    w.open("GrpHdr");
    w.leaf("MsgId", &m.msg_id);
    w.leaf("CreDtTm", &m.cre_dt_tm);
    w.leaf("NbOfTxs", &m.nb_of_txs.to_string());
    w.opt("CtrlSum", m.ctrl_sum.as_deref());
    if let Some(t) = &m.ttl_intr_bk_sttlm_amt {
        write_money(w, "TtlIntrBkSttlmAmt", t);
    }
    w.opt("IntrBkSttlmDt", m.intr_bk_sttlm_dt.as_deref());
    w.open("SttlmInf");
    w.leaf("SttlmMtd", &m.sttlm_mtd);
    write_code_choice(w, "ClrSys", m.clr_sys.as_deref(), m.clr_sys_prtry.as_deref());
    w.close("SttlmInf");
    write_agent_opt(w, "InstgAgt", m.grp_instg_agt.as_ref(), None);
    write_agent_opt(w, "InstdAgt", m.grp_instd_agt.as_ref(), None);
    w.close("GrpHdr");
}

fn write_payment_type(w: &mut XmlWriter, tx: &CreditTransferTx) {
    let any = tx.svc_lvl_cd.is_some()
        || tx.lcl_instrm_cd.is_some()
        || tx.lcl_instrm_prtry.is_some()
        || tx.ctgy_purp_cd.is_some()
        || tx.ctgy_purp_prtry.is_some();
    if !any {
        return;
    }
    w.open("PmtTpInf");
    write_code_choice(w, "SvcLvl", tx.svc_lvl_cd.as_deref(), None);
    write_code_choice(w, "LclInstrm", tx.lcl_instrm_cd.as_deref(), tx.lcl_instrm_prtry.as_deref());
    write_code_choice(w, "CtgyPurp", tx.ctgy_purp_cd.as_deref(), tx.ctgy_purp_prtry.as_deref());
    w.close("PmtTpInf");
}

fn write_account(w: &mut XmlWriter, name: &str, iban: Option<&str>, othr: Option<&str>) {
    if iban.is_none() && othr.is_none() {
        return;
    }
    w.open(name);
    w.open("Id");
    if let Some(i) = iban {
        w.leaf("IBAN", i);
    } else if let Some(o) = othr {
        w.open("Othr");
        w.leaf("Id", o);
        w.close("Othr");
    }
    w.close("Id");
    w.close(name);
}

fn write_party(w: &mut XmlWriter, name: &str, nm: Option<&str>) {
    w.open(name);
    w.opt("Nm", nm);
    w.close(name);
}

fn write_tx(w: &mut XmlWriter, tx: &CreditTransferTx) {
    w.open("CdtTrfTxInf");
    w.open("PmtId");
    w.opt("InstrId", tx.instr_id.as_deref());
    w.leaf("EndToEndId", &tx.end_to_end_id);
    w.opt("TxId", tx.tx_id.as_deref());
    w.opt("UETR", tx.uetr.as_ref().map(Uetr::as_str));
    w.opt("ClrSysRef", tx.clr_sys_ref.as_deref());
    w.close("PmtId");
    write_payment_type(w, tx);
    write_money(w, "IntrBkSttlmAmt", &tx.amount);
    w.opt("IntrBkSttlmDt", tx.intr_bk_sttlm_dt.as_deref());
    if let Some(a) = &tx.instd_amt {
        write_money(w, "InstdAmt", a);
    }
    w.opt("XchgRate", tx.xchg_rate.as_deref());
    w.leaf("ChrgBr", tx.chrg_br.as_deref().unwrap_or("SHAR"));
    write_agent_opt(w, "InstgAgt", tx.instg_agt.as_ref(), tx.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", tx.instd_agt.as_ref(), tx.instd_agt_mmb.as_ref());
    write_agent_opt(w, "IntrmyAgt1", tx.intrmy_agt1.as_ref(), None);
    write_party(w, "Dbtr", tx.dbtr_name.as_deref());
    write_account(w, "DbtrAcct", tx.dbtr_iban.as_deref(), tx.dbtr_acct_othr.as_deref());
    write_agent(w, "DbtrAgt", tx.dbtr_agt.as_ref(), tx.dbtr_agt_mmb.as_ref());
    write_agent(w, "CdtrAgt", tx.cdtr_agt.as_ref(), tx.cdtr_agt_mmb.as_ref());
    write_party(w, "Cdtr", tx.cdtr_name.as_deref());
    write_account(w, "CdtrAcct", tx.cdtr_iban.as_deref(), tx.cdtr_acct_othr.as_deref());
    if let Some(p) = &tx.purp_cd {
        w.open("Purp");
        w.leaf("Cd", p);
        w.close("Purp");
    }
    write_ustrd(w, &tx.rmt_inf_ustrd);
    w.close("CdtTrfTxInf");
}
