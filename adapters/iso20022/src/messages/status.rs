//! Payment status codes (ExternalPaymentTransactionStatus1Code / ExternalPaymentGroupStatus1Code).

use std::fmt;

macro_rules! statuses {
    ($($s:ident => $doc:literal,)*) => {
        /// A payment (transaction or group) status. `PART` is valid at group level only.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum TxStatus {
            $(#[doc = $doc] $s,)*
        }

        impl TxStatus {
            /// Every status code.
            pub const ALL: &'static [TxStatus] = &[$(TxStatus::$s,)*];

            #[must_use]
            pub fn as_str(&self) -> &'static str {
                match self { $(TxStatus::$s => stringify!($s),)* }
            }

            /// Parses an ISO status code; `None` for anything else.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $(stringify!($s) => Some(TxStatus::$s),)* _ => None }
            }
        }
    };
}

statuses! {
    ACTC => "Accepted technical validation (the switch's durable ACK).",
    RCVD => "Received.",
    PDNG => "Pending.",
    ACCP => "Accepted customer profile.",
    ACSP => "Accepted settlement in process.",
    ACSC => "Accepted settlement completed.",
    ACCC => "Accepted credit settlement completed.",
    ACWC => "Accepted with change.",
    ACWP => "Accepted without posting.",
    BLCK => "Blocked.",
    RJCT => "Rejected (must carry a reason).",
    ACFC => "Accepted funds checked.",
    ACIS => "Accepted and settlement initiated.",
    CANC => "Cancelled.",
    PATC => "Partially accepted technical correct.",
    PRES => "Presented.",
    PART => "Partially accepted (group status only).",
}

impl TxStatus {
    /// Terminal statuses: no further status will follow.
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, TxStatus::ACSC | TxStatus::ACCC | TxStatus::RJCT | TxStatus::CANC)
    }
}

impl fmt::Display for TxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
