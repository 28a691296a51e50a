//! Value types with their validation: currency, money, BIC, UETR, IBAN.

pub(crate) mod bic;
pub(crate) mod currency;
pub(crate) mod iban;
pub(crate) mod money;
pub(crate) mod uetr;
