//! admi.002 message reject (what the switch answers when a message cannot be read at all):
//! typed model, reader and writer (admi.002.001.01).

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::text_at;
use crate::messages::related::document_root;
use crate::Text;

/// An admi.002 message reject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Admi002 {
    pub app_hdr: Option<AppHdr>,
    /// `RltdRef/Ref`: the reference of the rejected message.
    pub related_ref: Text,
    /// `Rsn/RjctgPtyRsn` (e.g. a reason code such as `FF01`).
    pub rjctg_pty_rsn: Text,
    pub rjctn_dt_tm: Option<Text>,
    pub err_lctn: Option<Text>,
    pub rsn_desc: Option<Text>,
    pub addtl_data: Option<Text>,
}

impl Admi002 {
    /// The reject the switch sends for an unreadable message, from the validation failure.
    #[must_use]
    pub fn from_error(related_ref: &str, rjctn_dt_tm: &str, e: &ValidationError) -> Self {
        let clip = |s: &str, n: usize| s.chars().take(n).collect::<Text>();
        Admi002 {
            app_hdr: None,
            related_ref: if related_ref.is_empty() { "NONREF".into() } else { clip(related_ref, 35) },
            rjctg_pty_rsn: e.code.as_str().into(),
            rjctn_dt_tm: Some(rjctn_dt_tm.into()),
            err_lctn: Some(clip(&e.path, 350)).filter(|p| !p.is_empty()),
            rsn_desc: Some(clip(&e.detail, 350)).filter(|d| !d.is_empty()),
            addtl_data: None,
        }
    }
}

/// Reads and fully validates an admi.002.
///
/// # Errors
/// The first failure found.
pub fn read_admi002(input: &[u8], limits: &Limits) -> Result<Admi002, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "admi.002", "admi.002.001.01")?;
    let tree = &parts.tree;
    Ok(Admi002 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        related_ref: text_at(tree, root, "RltdRef/Ref").unwrap_or_default(),
        rjctg_pty_rsn: text_at(tree, root, "Rsn/RjctgPtyRsn").unwrap_or_default(),
        rjctn_dt_tm: text_at(tree, root, "Rsn/RjctnDtTm"),
        err_lctn: text_at(tree, root, "Rsn/ErrLctn"),
        rsn_desc: text_at(tree, root, "Rsn/RsnDesc"),
        addtl_data: text_at(tree, root, "Rsn/AddtlData"),
    })
}

/// admi.002.001.01 namespace.
pub const ADMI002_NS: &str = "urn:iso:std:iso:20022:tech:xsd:admi.002.001.01";

/// Writes an admi.002.001.01 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_admi002(m: &Admi002) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), ADMI002_NS, |w| {
        w.open_ns("Document", ADMI002_NS);
        w.open("admi.002.001.01");
        w.open("RltdRef");
        w.leaf("Ref", &m.related_ref);
        w.close("RltdRef");
        w.open("Rsn");
        w.leaf("RjctgPtyRsn", &m.rjctg_pty_rsn);
        w.opt("RjctnDtTm", m.rjctn_dt_tm.as_deref());
        w.opt("ErrLctn", m.err_lctn.as_deref());
        w.opt("RsnDesc", m.rsn_desc.as_deref());
        w.opt("AddtlData", m.addtl_data.as_deref());
        w.close("Rsn");
        w.close("admi.002.001.01");
        w.close("Document");
    })
}
