//! Wraps written Documents: bare when there is no AppHdr, otherwise AppHdr + Document inside
//! `<Envelope xmlns="urn:switchyard:xsd:envelope">`, the envelope our reader (and the
//! documentation) defines for a header-carrying message.

use crate::envelope::ENVELOPE_NAMESPACE;
use crate::messages::apphdr::{write_app_hdr, AppHdr};
use crate::xml::writer::XmlWriter;

pub(crate) fn write_with_header(hdr: Option<&AppHdr>, body: impl FnOnce(&mut XmlWriter)) -> Vec<u8> {
    let mut w = XmlWriter::new();
    match hdr {
        Some(h) => {
            w.open_ns("Envelope", ENVELOPE_NAMESPACE);
            write_app_hdr(&mut w, h);
            body(&mut w);
            w.close("Envelope");
        }
        None => body(&mut w),
    }
    w.finish()
}
