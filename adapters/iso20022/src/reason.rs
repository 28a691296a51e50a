//! ISO 20022 reason codes (ExternalStatusReason1Code subset) that this crate emits or reads.
//!
//! Every validation failure maps to exactly one of these (see [`crate::rule::Rule::code`]);
//! pacs.002 status reports carry them in `StsRsnInf/Rsn/Cd`.

use std::fmt;

macro_rules! reason_codes {
    ($($code:ident => $doc:literal,)*) => {
        /// An ISO 20022 external status reason code.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum ReasonCode {
            $(#[doc = $doc] $code,)*
        }

        impl ReasonCode {
            /// Every code this crate knows, in declaration order.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$code,)*];

            /// The four-letter code as it appears on the wire.
            #[must_use]
            pub fn as_str(&self) -> &'static str {
                match self { $(ReasonCode::$code => stringify!($code),)* }
            }

            /// Parses a four-letter code; `None` for codes this crate does not know.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $(stringify!($code) => Some(ReasonCode::$code),)* _ => None }
            }

            /// The ISO short description of the code.
            #[must_use]
            pub fn description(&self) -> &'static str {
                match self { $(ReasonCode::$code => $doc,)* }
            }
        }
    };
}

reason_codes! {
    AB05 => "Timeout at the creditor agent",
    AC01 => "Incorrect account number",
    AC03 => "Invalid creditor account number",
    AC04 => "Closed account number",
    AC06 => "Blocked account",
    AG01 => "Transaction forbidden",
    AG02 => "Invalid bank operation code",
    AM01 => "Zero amount",
    AM02 => "Not allowed amount (above maximum)",
    AM03 => "Not allowed currency",
    AM04 => "Insufficient funds",
    AM05 => "Duplication",
    AM09 => "Wrong amount",
    AM10 => "Invalid control sum",
    AM12 => "Invalid amount",
    AM18 => "Invalid number of transactions",
    BE04 => "Missing creditor address",
    BE23 => "Account proxy invalid",
    CUST => "Requested by customer",
    DT01 => "Invalid date",
    DUPL => "Duplicate payment",
    FF01 => "Invalid file format",
    FF02 => "Syntax error",
    FF03 => "Invalid payment type information",
    FRAD => "Fraudulent origin",
    MS02 => "Not specified reason customer generated",
    MS03 => "Not specified reason agent generated",
    NARR => "Narrative",
    RC01 => "Bank identifier incorrect",
    RC02 => "Invalid bank identifier",
    RC03 => "Invalid debtor bank identifier",
    RC04 => "Invalid creditor bank identifier",
    RC08 => "Invalid clearing system member identifier",
    RR01 => "Missing debtor account or identification",
    RR02 => "Missing debtor name or address",
    RR03 => "Missing creditor name or address",
    RR04 => "Regulatory reason",
    TM01 => "Invalid cut-off time (timeout)",
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
