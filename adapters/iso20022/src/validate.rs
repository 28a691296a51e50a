//! The validation pipeline shared by every reader, and `validate_any`.
//!
//! Order: input checks and well-formedness (`xml`), envelope and schema layer (`envelope`,
//! `schema`, with value rules inside the walk), message-level rules, AppHdr ↔ Document
//! consistency, then the scheme profiles the message declares (or the one the caller passes).

use crate::envelope::{parse_parts, Parts};
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::rules::cbpr::CbprPlusProfile;
use crate::rules::fednow::FedNowProfile;
use crate::rules::profile::{Declared, MessageView, SchemeProfile};
use crate::rules::sepa::SepaProfile;
use crate::rules::{header, message};

/// What `validate_any` learned about a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    /// Message definition id of the Document (`pacs.008.001.08`), or of the AppHdr for a bare header.
    pub msg_def: String,
    /// `GrpHdr/MsgId` (or `Assgnmt/Id`, `BizMsgIdr`, ... for messages without a group header).
    pub msg_id: String,
    /// The AppHdr's message definition id, when a header was present.
    pub app_hdr_def: Option<String>,
    /// The built-in scheme profiles that were applied (`fednow`, `cbpr+`, `sepa`).
    pub profiles: Vec<&'static str>,
}

/// The built-in profiles [`check_parts`] applied, in the order it applies them; a `Vec` is
/// built only for a [`MessageSummary`] (the typed readers drop the list).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Applied {
    fednow: bool,
    cbpr: bool,
    sepa: bool,
}

impl Applied {
    fn names(self) -> Vec<&'static str> {
        [(self.fednow, "fednow"), (self.cbpr, "cbpr+"), (self.sepa, "sepa")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect()
    }
}

/// ISO rules (message + header) and the built-in profiles the message declares.
pub(crate) fn check_parts(parts: &Parts<'_>) -> Result<Applied, ValidationError> {
    check_iso_rules(parts)?;
    let view = MessageView { parts };
    let declared = Declared::scan(&view);
    let mut applied = Applied::default();
    if declared.fednow_clearing || FedNowProfile::applies_by_header(&view) {
        FedNowProfile.check(&view)?;
        applied.fednow = true;
    }
    if CbprPlusProfile::applies(&view) {
        CbprPlusProfile.check(&view)?;
        applied.cbpr = true;
    }
    if declared.sepa {
        SepaProfile.check(&view)?;
        applied.sepa = true;
    }
    Ok(applied)
}

fn check_iso_rules(parts: &Parts<'_>) -> Result<(), ValidationError> {
    if let Some((doc, s)) = parts.document {
        message::check(&parts.tree, doc, &s.msg_def)?;
    }
    header::check(parts)
}

/// Detects the message type from its namespace and validates it completely (schema, ISO
/// business rules, AppHdr consistency, and the built-in profiles the message declares).
///
/// # Errors
/// The first failure, with its reason code, path and detail.
pub fn validate_any(input: &[u8], limits: &Limits) -> Result<MessageSummary, ValidationError> {
    let parts = parse_parts(input, limits)?;
    let applied = check_parts(&parts)?;
    Ok(summary(&parts, applied.names()))
}

/// Like [`validate_any`], but applies `profile` instead of the built-in profiles.
///
/// # Errors
/// The first failure.
pub fn validate_with_profile(
    input: &[u8],
    limits: &Limits,
    profile: &dyn SchemeProfile,
) -> Result<MessageSummary, ValidationError> {
    let parts = parse_parts(input, limits)?;
    check_iso_rules(&parts)?;
    profile.check(&MessageView { parts: &parts })?;
    Ok(summary(&parts, Vec::new()))
}

const MSG_ID_PATHS: &[&str] = &["GrpHdr/MsgId", "Assgnmt/Id", "RltdRef/Ref", "Hdr/Id"];

fn summary(parts: &Parts<'_>, profiles: Vec<&'static str>) -> MessageSummary {
    let tree = &parts.tree;
    let from_doc = parts.document.and_then(|(doc, _)| {
        let root = tree.children(doc).next()?;
        MSG_ID_PATHS.iter().find_map(|p| tree.descend(root, p)).map(|n| tree.text(n).into_owned())
    });
    let from_hdr =
        || parts.app_hdr.and_then(|(h, _)| tree.child(h, "BizMsgIdr")).map(|n| tree.text(n).into_owned());
    MessageSummary {
        msg_def: parts.msg_def().to_owned(),
        msg_id: from_doc.or_else(from_hdr).unwrap_or_default(),
        app_hdr_def: parts.app_hdr.map(|(_, s)| s.msg_def.to_string()),
        profiles,
    }
}
