//! The XSD layer: the compiled-in schemas of every supported message and a validator that
//! checks an element tree against them (order, cardinality, facets, attributes, namespace)
//! and runs the value-level business rules (IBAN, BIC, currency, amount precision,
//! references, bidi) in the same pass.

pub(crate) mod lexical;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod pattern;
pub(crate) mod registry;
#[cfg(test)]
pub(crate) mod sourcegen;
pub(crate) mod validate;
