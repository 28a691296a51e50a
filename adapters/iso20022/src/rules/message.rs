//! Message-level business rules on the validated tree: NbOfTxs / CtrlSum /
//! TtlIntrBkSttlmAmt totals, zero settlement amounts, known status codes, RJCT reasons,
//! return and cancellation reasons, RJCR (rejected cancellation) reasons, and the
//! original-group reference of status requests.

use crate::error::ValidationError;
use crate::rule::Rule;
use crate::rules::values;
use crate::schema::lexical;
use crate::xml::tree::Tree;

/// `(message family, group container, transaction element, amount element in tx, total element)`.
const TOTALS: &[(&str, &str, &str, &str, &str)] = &[
    ("pacs.008", "FIToFICstmrCdtTrf", "CdtTrfTxInf", "IntrBkSttlmAmt", "TtlIntrBkSttlmAmt"),
    ("pacs.009", "FICdtTrf", "CdtTrfTxInf", "IntrBkSttlmAmt", "TtlIntrBkSttlmAmt"),
    ("pacs.004", "PmtRtr", "TxInf", "RtrdIntrBkSttlmAmt", "TtlRtrdIntrBkSttlmAmt"),
];

/// ExternalPaymentTransactionStatus1Code is an open external code list, so a code published
/// after this crate (the CBPR+ samples use one) must pass; but every status code is four
/// letters, while reason codes carry digits (`AB01`, `AC04`), so a digit means a reason code
/// was put where a status belongs. Schemes pin their exact sets in profiles.
fn is_status_shape(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Runs every message-level rule that applies to `msg_def`.
pub(crate) fn check(tree: &Tree<'_>, doc: u32, msg_def: &str) -> Result<(), ValidationError> {
    let family = msg_def.get(..8).unwrap_or("");
    let Some(root) = tree.children(doc).next() else { return Ok(()) };
    if let Some(&(_, _, tx, amt, total)) = TOTALS.iter().find(|t| t.0 == family) {
        // Zero amounts are refused in the schema walk (`rules::values`, `amt.zero`).
        group_totals(tree, root, tx, amt, total)?;
    }
    match family {
        "pain.001" => pain001_totals(tree, root)?,
        "pacs.002" | "pain.002" => statuses(tree, root)?,
        "pacs.004" => each_needs(tree, root, "TxInf", "RtrRsnInf/Rsn", Rule::ReturnReasonMissing)?,
        "camt.056" => {
            cancellation_reasons(tree, root)?;
            cancellation_control(tree, root)?;
        }
        "camt.029" => rejected_cancellations(tree, root)?,
        "pacs.028" => original_group(tree, root)?,
        _ => {}
    }
    Ok(())
}

/// Whether some element along the `/`-separated `path` below `node` exists, trying every
/// element of each name (a reason may be in any `StsRsnInf` block, not only the first, so
/// [`Tree::descend`], which follows the first, is not enough).
fn has_path(tree: &Tree<'_>, node: u32, path: &str) -> bool {
    let (head, rest) = path.split_once('/').map_or((path, None), |(h, r)| (h, Some(r)));
    named(tree, node, head).any(|c| rest.is_none_or(|r| has_path(tree, c, r)))
}

fn named<'t>(tree: &'t Tree<'_>, parent: u32, name: &'t str) -> impl Iterator<Item = u32> + Clone + 't {
    tree.children(parent).filter(move |&c| tree.nodes[c as usize].local == name)
}

/// A decimal as an integer scaled by 10^17 (ISO decimals have at most 17 fraction digits
/// and 18 total digits, so this is exact).
fn scaled(text: &str) -> Option<i128> {
    let d = lexical::decimal(text.trim())?;
    let frac = d.frac.trim_end_matches('0');
    if frac.len() > 17 || d.int.len() > 40 {
        return None;
    }
    let mut v: i128 = 0;
    for b in d.int.bytes().chain(frac.bytes()) {
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let scale = 10i128.checked_pow(u32::try_from(17 - frac.len()).ok()?)?;
    let v = v.checked_mul(scale)?;
    Some(if d.negative { -v } else { v })
}

/// The sum of the amounts `amount_of` finds in the transactions `txs` (a transaction without
/// one counts 0).
fn sum_of(
    tree: &Tree<'_>,
    mut txs: impl Iterator<Item = u32>,
    amount_of: impl Fn(u32) -> Option<u32>,
) -> Option<i128> {
    txs.try_fold(0i128, |acc, t| {
        let v = amount_of(t).map_or(Some(0), |n| scaled(&tree.text(n)))?;
        acc.checked_add(v)
    })
}

fn group_totals(tree: &Tree<'_>, root: u32, tx: &str, amt: &str, total: &str) -> Result<(), ValidationError> {
    let Some(grp) = tree.child(root, "GrpHdr") else { return Ok(()) };
    // The transactions are iterated where needed (no list is built).
    let txs = named(tree, root, tx);
    check_count_and_sum(tree, grp, txs.clone(), |t| tree.child(t, amt), amt)?;
    if let Some(t) = tree.child(grp, total) {
        let ccy = tree.attr(t, "Ccy");
        let mixed = txs.clone().filter_map(|x| tree.child(x, amt)).find(|&a| tree.attr(a, "Ccy") != ccy);
        if let Some(a) = mixed {
            return Err(
                Rule::ControlSumMismatch.at(tree.path(a), format!("{amt} currency differs from {total}"))
            );
        }
        if scaled(&tree.text(t)) != sum_of(tree, txs, |x| tree.child(x, amt)) {
            return Err(
                Rule::ControlSumMismatch.at(tree.path(t), format!("{total} differs from the sum of {amt}"))
            );
        }
    }
    Ok(())
}

/// `NbOfTxs` and `CtrlSum` of `grp` against the transactions `txs`, whose amounts
/// `amount_of` finds (`amt` names them in the failure).
fn check_count_and_sum(
    tree: &Tree<'_>,
    grp: u32,
    txs: impl Iterator<Item = u32> + Clone,
    amount_of: impl Fn(u32) -> Option<u32>,
    amt: &str,
) -> Result<(), ValidationError> {
    if let Some(n) = tree.child(grp, "NbOfTxs") {
        let declared = tree.text(n);
        let count = txs.clone().count();
        if declared.trim().parse::<usize>().ok() != Some(count) {
            return Err(Rule::NbOfTxsMismatch
                .at(tree.path(n), format!("NbOfTxs {declared} but {count} transactions")));
        }
    }
    if let Some(c) = tree.child(grp, "CtrlSum") {
        if scaled(&tree.text(c)) != sum_of(tree, txs, amount_of) {
            return Err(
                Rule::ControlSumMismatch.at(tree.path(c), format!("CtrlSum differs from the sum of {amt}"))
            );
        }
    }
    Ok(())
}

/// pain.001's equivalent amount (`Amt/EqvtAmt/Amt`, a name used for other amounts too, so
/// not refused by name in the schema walk) may not be zero either. The schema walk has
/// checked it is a decimal, as [`values::is_zero`] needs.
fn zero_amount(tree: &Tree<'_>, a: u32) -> Result<(), ValidationError> {
    if values::is_zero(tree.text(a).trim()) {
        let name = tree.nodes[a as usize].local;
        return Err(Rule::AmountZero.at(tree.path(a), format!("{name} is zero")));
    }
    Ok(())
}

/// The amount a pain.001 transaction carries: `Amt/InstdAmt`, or `Amt/EqvtAmt/Amt` (the
/// amount in the debtor's currency that buys the instructed one).
fn pain001_amount(tree: &Tree<'_>, tx: u32) -> Option<u32> {
    let amt = tree.child(tx, "Amt")?;
    tree.child(amt, "InstdAmt").or_else(|| tree.descend(amt, "EqvtAmt/Amt"))
}

fn pain001_totals(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    let amount_of = |t| pain001_amount(tree, t);
    for pmt in named(tree, root, "PmtInf") {
        for t in named(tree, pmt, "CdtTrfTxInf") {
            if let Some(a) = amount_of(t) {
                zero_amount(tree, a)?;
            }
        }
        check_count_and_sum(tree, pmt, named(tree, pmt, "CdtTrfTxInf"), amount_of, "Amt")?;
    }
    let all = named(tree, root, "PmtInf").flat_map(|pmt| named(tree, pmt, "CdtTrfTxInf"));
    match tree.child(root, "GrpHdr") {
        Some(grp) => check_count_and_sum(tree, grp, all, amount_of, "Amt"),
        None => Ok(()),
    }
}

fn statuses(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    for (i, n) in tree.nodes.iter().enumerate() {
        let Ok(i) = u32::try_from(i) else { break };
        let group = match n.local {
            "TxSts" => false,
            "GrpSts" | "PmtInfSts" => true,
            _ => continue,
        };
        if !is_within(tree, i, root) {
            continue;
        }
        let code = tree.text(i);
        if !is_status_shape(&code) || (code == "PART" && !group) {
            return Err(
                Rule::StatusUnknown.at(tree.path(i), format!("'{code}' is not a payment status code"))
            );
        }
        // Every RJCT carries its own reason, a group's as well: reasons given for the
        // transactions do not say why the group was rejected.
        if code == "RJCT" && !has_path(tree, n.parent, "StsRsnInf/Rsn") {
            return Err(Rule::RejectWithoutReason.at(tree.path(i), "RJCT without StsRsnInf/Rsn"));
        }
    }
    Ok(())
}

pub(crate) fn is_within(tree: &Tree<'_>, node: u32, ancestor: u32) -> bool {
    let mut at = node;
    while let Some(n) = tree.node(at) {
        if at == ancestor {
            return true;
        }
        at = n.parent;
    }
    false
}

fn each_needs(tree: &Tree<'_>, root: u32, tx: &str, path: &str, rule: Rule) -> Result<(), ValidationError> {
    for t in named(tree, root, tx) {
        if !has_path(tree, t, path) {
            return Err(rule.at(tree.path(t), format!("{path} is required")));
        }
    }
    Ok(())
}

fn cancellation_reasons(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    for u in named(tree, root, "Undrlyg") {
        // Every part of Undrlyg is optional in the XSD; one naming nothing cancels nothing.
        if tree.children(u).next().is_none() {
            return Err(Rule::CancellationOfNothing
                .at(tree.path(u), "no OrgnlGrpInfAndCxl, OrgnlPmtInfAndCxl or TxInf: nothing to cancel"));
        }
        if let Some(g) = tree.child(u, "OrgnlGrpInfAndCxl") {
            if tree.child(u, "TxInf").is_none() && !has_path(tree, g, "CxlRsnInf/Rsn") {
                return Err(Rule::CancellationReasonMissing.at(tree.path(g), "CxlRsnInf/Rsn is required"));
            }
        }
        each_needs(tree, u, "TxInf", "CxlRsnInf/Rsn", Rule::CancellationReasonMissing)?;
    }
    Ok(())
}

/// camt.029: a rejected cancellation request (`RJCR`) says why, like a RJCT status does. A
/// transaction's status is its `TxCxlSts`, else the group's `GrpCxlSts`, else the case's
/// `Sts/Conf`; each rejected transaction needs `CxlStsRsnInf/Rsn`, or its group does (the
/// group's reason covers the transactions under it). A rejection with no transaction
/// details needs the reason at group level.
fn rejected_cancellations(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    let conf = tree.descend(root, "Sts/Conf").map(|c| tree.text(c));
    let is_rjcr = |status: Option<u32>| match status {
        Some(s) => tree.text(s) == "RJCR",
        None => conf.as_deref() == Some("RJCR"),
    };
    let has_reason = |n: u32| has_path(tree, n, "CxlStsRsnInf/Rsn");
    let mut any_details = false;
    for d in named(tree, root, "CxlDtls") {
        any_details = true;
        let grp = tree.child(d, "OrgnlGrpInfAndSts");
        let grp_status = grp.and_then(|g| tree.child(g, "GrpCxlSts"));
        let grp_reason = grp.is_some_and(has_reason);
        let mut txs = named(tree, d, "TxInfAndSts").peekable();
        if txs.peek().is_none() {
            if let Some(g) = grp.filter(|&g| is_rjcr(grp_status) && !has_reason(g)) {
                return Err(
                    Rule::CancellationRejectWithoutReason.at(tree.path(g), "RJCR without CxlStsRsnInf/Rsn")
                );
            }
            continue;
        }
        for t in txs {
            let status = tree.child(t, "TxCxlSts").or(grp_status);
            if is_rjcr(status) && !has_reason(t) && !grp_reason {
                return Err(
                    Rule::CancellationRejectWithoutReason.at(tree.path(t), "RJCR without CxlStsRsnInf/Rsn")
                );
            }
        }
    }
    if !any_details && conf.as_deref() == Some("RJCR") {
        return Err(Rule::CancellationRejectWithoutReason
            .at(format!("{}/Sts/Conf", tree.path(root)), "RJCR without any CxlDtls giving the reason"));
    }
    Ok(())
}

/// pacs.028: the request names the original group, at group level or in every transaction;
/// a request naming nothing at all (no `OrgnlGrpInf`, no `TxInf`) asks about nothing.
fn original_group(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    if tree.child(root, "OrgnlGrpInf").is_some() {
        return Ok(());
    }
    if tree.child(root, "TxInf").is_none() {
        return Err(Rule::OriginalGroupMissing
            .at(tree.path(root), "neither OrgnlGrpInf nor TxInf: the request names no original message"));
    }
    each_needs(tree, root, "TxInf", "OrgnlGrpInf", Rule::OriginalGroupMissing)
}

/// camt.056 `CtrlData`: `NbOfTxs` counts the transactions (`TxInf`) of every `Undrlyg`,
/// `CtrlSum` sums their original amounts (`OrgnlIntrBkSttlmAmt`, else `OrgnlInstdAmt`).
fn cancellation_control(tree: &Tree<'_>, root: u32) -> Result<(), ValidationError> {
    let Some(ctrl) = tree.child(root, "CtrlData") else { return Ok(()) };
    let txs = named(tree, root, "Undrlyg").flat_map(move |u| named(tree, u, "TxInf"));
    let amount_of = |t| tree.child(t, "OrgnlIntrBkSttlmAmt").or_else(|| tree.child(t, "OrgnlInstdAmt"));
    check_count_and_sum(tree, ctrl, txs, amount_of, "OrgnlIntrBkSttlmAmt")
}
