//! The one table that maps every validation failure to exactly one ISO reason code.
//!
//! Each check in the crate names a [`Rule`]; the rule decides the [`ReasonCode`] and a stable
//! identifier (`rule.id()`), so a reader of a rejection can tell *which* check fired even when
//! several share a reason code. Schema (XSD) failures are all `FF01`; the business rules of
//! RULES.md get the specific code the ISO code set defines for them.

use crate::error::ValidationError;
use crate::reason::ReasonCode;

macro_rules! rules {
    ($($rule:ident => ($code:ident, $id:literal, $doc:literal),)*) => {
        /// One kind of validation failure. See the crate docs / docs/ISO20022.md for the table.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(#[doc = $doc] $rule,)*
        }

        impl Rule {
            /// Every rule, in table order.
            pub const ALL: &'static [Rule] = &[$(Rule::$rule,)*];

            /// The single reason code this failure maps to.
            #[must_use]
            pub fn code(self) -> ReasonCode {
                match self { $(Rule::$rule => ReasonCode::$code,)* }
            }

            /// A stable, dotted identifier (`xml.doctype`, `iban.checksum`, ...).
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$rule => $id,)* }
            }

            /// What the rule checks, in one sentence.
            #[must_use]
            pub fn description(self) -> &'static str {
                match self { $(Rule::$rule => $doc,)* }
            }
        }
    };
}

rules! {
    // --- well-formedness and hostile input -------------------------------------------------
    XmlSyntax => (FF01, "xml.syntax", "The input is not well-formed XML (unbalanced tags, bad attribute, stray text, bad entity)."),
    XmlDoctype => (FF01, "xml.doctype", "A DOCTYPE declaration is present (entity expansion and external entities are never allowed)."),
    XmlEncoding => (FF01, "xml.encoding", "The input is not UTF-8, declares another encoding, or contains NUL/C0 control characters or the noncharacters U+FFFE/U+FFFF."),
    LimitSize => (FF01, "limit.size", "The input exceeds Limits::max_message_bytes."),
    LimitDepth => (FF01, "limit.depth", "Elements nest deeper than Limits::max_depth."),
    LimitText => (FF01, "limit.text", "A text node or attribute value exceeds Limits::max_text_bytes."),
    LimitTransactions => (FF01, "limit.transactions", "The message carries more transactions than Limits::max_transactions."),
    // --- envelope and message identification ----------------------------------------------
    UnknownMessage => (FF01, "msg.unknown", "No supported ISO 20022 Document (or AppHdr) namespace was found."),
    WrongMessageType => (FF01, "msg.wrong_type", "The Document is a different message than the reader expects."),
    EnvelopeMismatch => (FF01, "env.wrapper", "The envelope's wrapper element does not match the Document it carries."),
    // --- XSD layer -------------------------------------------------------------------------
    XsdUnexpectedElement => (FF01, "xsd.unexpected", "An element is not allowed here (unknown, out of order, or after the content ended)."),
    XsdMissingElement => (FF01, "xsd.missing", "A mandatory element is missing (minOccurs)."),
    XsdTooMany => (FF01, "xsd.too_many", "An element occurs more often than maxOccurs allows."),
    XsdFacet => (FF01, "xsd.facet", "A value breaks a facet of its simple type (length, pattern, enumeration, digits, range, lexical form)."),
    XsdAttribute => (FF01, "xsd.attribute", "A required attribute is missing or an undeclared attribute is present."),
    XsdNamespace => (FF01, "xsd.namespace", "An element is in a namespace other than its message's."),
    XsdText => (FF01, "xsd.text", "Character data appears in element-only content, or simple content is split by markup."),
    // --- business rules (RULES.md) -----------------------------------------------------------
    IbanInvalid => (AC01, "iban.invalid", "An IBAN fails the country length or the ISO 7064 mod-97 check."),
    CreditorIbanInvalid => (AC03, "iban.creditor_invalid", "The creditor account IBAN fails the country length or mod-97 check."),
    BicInvalid => (RC01, "bic.invalid", "A BIC is not a valid ISO 9362 identifier (country code unknown)."),
    ClearingMemberInvalid => (RC08, "clrsys.member_invalid", "A clearing system member id fails its scheme's check (e.g. US ABA check digit)."),
    CurrencyInvalid => (AM03, "ccy.not_active", "The currency is not an active ISO 4217 settlement currency (or is a commodity code XAU/XAG/XPD/XPT); where the XSD allows historic codes, not an ISO 4217 code, current or historic."),
    AmountPrecision => (AM12, "amt.precision", "An amount has more decimals than its currency's minor unit (counted as written: `1000.0` JPY has one)."),
    AmountZero => (AM01, "amt.zero", "A settlement or instructed amount is zero."),
    AmountRange => (AM12, "amt.range", "An amount has a sign, or does not fit the integer minor-unit representation."),
    NbOfTxsMismatch => (AM18, "grp.nb_of_txs", "NbOfTxs does not equal the number of transactions."),
    ControlSumMismatch => (AM10, "grp.ctrl_sum", "CtrlSum or TtlIntrBkSttlmAmt does not equal the sum of the transactions."),
    BahMsgDefMismatch => (FF01, "bah.msgdefidr", "The AppHdr MsgDefIdr differs from the Document's message identifier."),
    BahBizMsgIdrMismatch => (FF01, "bah.bizmsgidr", "The AppHdr BizMsgIdr differs from GrpHdr/MsgId where the scheme requires them equal."),
    BahPartyMismatch => (RC02, "bah.party", "The AppHdr From/To BIC differs from the InstgAgt/InstdAgt of the Document."),
    ReferenceInvalid => (FF01, "ref.chars", "A payment reference (MsgId, InstrId, EndToEndId, TxId, ...) starts/ends with '/' or contains '//'; or any identifier (an element named Id, Ref, ...Id, ...Idr or ...Ref) holds control characters."),
    TextBidiOverride => (FF01, "text.bidi", "Text contains Unicode bidirectional override/isolate characters."),
    StatusUnknown => (FF01, "sts.unknown", "A status code is not one of the ISO payment transaction status codes."),
    RejectWithoutReason => (FF01, "sts.rjct_reason", "A RJCT status carries no StsRsnInf/Rsn."),
    ReasonUnknown => (FF01, "sts.reason_unknown", "A status reason code is not one this crate can represent."),
    ReturnReasonMissing => (FF01, "rtr.reason", "A payment return carries no RtrRsnInf/Rsn."),
    CancellationReasonMissing => (FF01, "cxl.reason", "A cancellation request carries no CxlRsnInf/Rsn."),
    CancellationRejectWithoutReason => (FF01, "cxl.rjcr_reason", "A rejected cancellation request (RJCR) carries no CxlStsRsnInf/Rsn."),
    CancellationOfNothing => (FF01, "cxl.nothing", "A cancellation request's Undrlyg names no original message, payment information or transaction."),
    OriginalGroupMissing => (FF01, "orgnl.grp", "A status request carries no original group information."),
    // --- scheme profiles -------------------------------------------------------------------
    ProfileCurrency => (AM03, "profile.ccy", "The scheme does not settle in this currency."),
    ProfileSettlementMethod => (FF01, "profile.sttlm_mtd", "The scheme does not allow this settlement method."),
    ProfileOneTransaction => (FF01, "profile.one_tx", "The scheme requires exactly one transaction per message."),
    ProfileDateTimeOffset => (DT01, "profile.dt_offset", "The scheme requires date-times with a UTC offset."),
    ProfileReference => (FF01, "profile.ref", "A reference breaks the scheme's character set, length or format."),
    ProfilePaymentType => (FF03, "profile.pmttpinf", "Payment type information the scheme requires is missing (e.g. FedNow: PmtTpInf/CtgyPurp)."),
    ProfileHeaderParty => (RC02, "profile.bah_party", "The AppHdr From/To is not the party the scheme requires."),
    ProfileSignature => (FF01, "profile.sgntr", "The scheme forbids an in-band signature in the AppHdr."),
    ProfileStatus => (FF01, "profile.status", "The status code is outside the scheme's allowed set."),
    ProfileAmount => (AM02, "profile.amt_max", "The amount exceeds the scheme's maximum."),
    ProfileOther => (FF01, "profile.other", "Another scheme-specific rule failed."),
}

impl Rule {
    /// Builds the failure for this rule at `path`. Cold: callers' error paths are laid out
    /// apart from the code that runs on valid input.
    #[cold]
    pub fn at(self, path: impl Into<String>, detail: impl AsRef<str>) -> ValidationError {
        ValidationError {
            code: self.code(),
            path: path.into(),
            detail: format!("[{}] {}", self.id(), detail.as_ref()),
        }
    }
}
