//! Hard limits applied to every input before and while it is parsed.
//!
//! The reader never allocates more than these bounds allow: the input size caps the node
//! arena, depth caps the open-element stack, text length caps any decoded string, and the
//! transaction count caps the typed model. Exceeding a limit is a validation failure (FF01).

/// The longest text a supported schema admits, in bytes: `Max20000Text` (admi.002
/// `AddtlData`) at four UTF-8 bytes a character. A test holds it to the schemas' `maxLength`.
pub(crate) const MAX_SCHEMA_TEXT_BYTES: usize = 20_000 * 4;

/// Limits for one message. `Limits::default()` suits interbank traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of the whole input in bytes (default 1 MiB).
    pub max_message_bytes: usize,
    /// Maximum element nesting depth, envelope included (default 48).
    pub max_depth: usize,
    /// Maximum length in bytes of one text node or attribute value (default 80,000: the
    /// longest value a supported schema allows, `Max20000Text`, at four bytes a character, so
    /// the default refuses no schema-valid message).
    pub max_text_bytes: usize,
    /// Maximum number of transactions (or entries/underlying items) in one message (default 1000).
    pub max_transactions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 1 << 20,
            max_depth: 48,
            max_text_bytes: MAX_SCHEMA_TEXT_BYTES,
            max_transactions: 1000,
        }
    }
}

impl Limits {
    /// The size limit alone, for a caller that knows a message's size before reading it (a
    /// file's length): the error [`crate::validate_any`] would give for those bytes.
    ///
    /// # Errors
    /// FF01 `limit.size` when `bytes` exceeds [`Limits::max_message_bytes`].
    pub fn check_size(&self, bytes: usize) -> Result<(), crate::ValidationError> {
        if bytes > self.max_message_bytes {
            return Err(
                crate::Rule::LimitSize.at("/", format!("{bytes} bytes > limit {}", self.max_message_bytes))
            );
        }
        Ok(())
    }
}
