//! The hand-written XML layer: tokenizer, tree, escaping and the writer helper.
//!
//! It is ours (not quick-xml) because reading speed is a product goal and because every
//! limit of [`crate::Limits`] must be enforced while reading, not after.

pub(crate) mod escape;
pub(crate) mod lexer;
pub(crate) mod tree;
pub(crate) mod writer;
