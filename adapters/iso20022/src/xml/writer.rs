//! A minimal, infallible XML writer for the message writers: elements, escaped text,
//! two-space indentation. Element names are compile-time constants; only text is escaped.

use crate::xml::escape::escape_into;

#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: Vec<u8>,
    depth: usize,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        XmlWriter { out, depth: 0 }
    }

    fn indent(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    /// `<name xmlns="ns">`.
    pub(crate) fn open_ns(&mut self, name: &str, ns: &str) {
        self.indent();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b" xmlns=\"");
        escape_into(&mut self.out, ns);
        self.out.extend_from_slice(b"\">");
        self.depth += 1;
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.leaf_attrs(name, [], None);
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'>');
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_attrs(name, [], Some(text));
    }

    /// `<name>text</name>` when `text` is present.
    pub(crate) fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    /// `<name attr="value">text</name>`.
    pub(crate) fn leaf_attr(&mut self, name: &str, attr: &str, value: &str, text: &str) {
        self.leaf_attrs(name, [(attr, value)], Some(text));
    }

    /// `<name a="v" ...>text</name>`, or an open `<name a="v" ...>` without `text` (closed by
    /// [`XmlWriter::close`]).
    pub(crate) fn leaf_attrs<'v>(
        &mut self,
        name: &str,
        attrs: impl IntoIterator<Item = (&'v str, &'v str)>,
        text: Option<&str>,
    ) {
        self.indent();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        for (attr, value) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(attr.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_into(&mut self.out, value);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        match text {
            Some(text) => {
                escape_into(&mut self.out, text);
                self.out.extend_from_slice(b"</");
                self.out.extend_from_slice(name.as_bytes());
                self.out.push(b'>');
            }
            None => self.depth += 1,
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.out.push(b'\n');
        self.out
    }
}
