//! Wraps written Documents: bare when there is no AppHdr, otherwise AppHdr + Document inside
//! `<Envelope xmlns="urn:switchyard:xsd:envelope">`, the envelope our reader (and the
//! documentation) defines for a header-carrying message.

use crate::envelope::ENVELOPE_NAMESPACE;
use crate::messages::apphdr::{write_app_hdr, AppHdr};
use crate::xml::writer::XmlWriter;

///
/// `document_ns` is the namespace of the Document `body` writes: the header's `MsgDefIdr` is
/// written as its message (`pacs.008.001.08`), whatever version the model was read from — a
/// header read over a pacs.008.001.10 and written over the .08 Document this crate writes
/// must name the .08 (rule `bah.msgdefidr`).
pub(crate) fn write_with_header(
    hdr: Option<&AppHdr>,
    document_ns: &str,
    body: impl FnOnce(&mut XmlWriter),
) -> Vec<u8> {
    let mut w = XmlWriter::new();
    match hdr {
        Some(h) => {
            w.open_ns("Envelope", ENVELOPE_NAMESPACE);
            let msg_def = document_ns.rsplit(':').next().unwrap_or(document_ns);
            write_app_hdr(&mut w, h, msg_def);
            body(&mut w);
            w.close("Envelope");
        }
        None => body(&mut w),
    }
    w.finish()
}
