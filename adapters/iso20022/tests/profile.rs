//! The scheme-profile hook: a profile implemented outside the crate (as the clearing crate
//! does) sees the validated message and can reject it with its own reason code.

mod support;

use switchyard_iso20022::{
    validate_any, validate_with_profile, Limits, MessageView, ReasonCode, SchemeProfile, ValidationError,
};

/// A toy ZAR-only scheme with a maximum amount.
struct RandOnly;

impl SchemeProfile for RandOnly {
    fn name(&self) -> &str {
        "zar-only"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        let Some(doc) = msg.document() else { return Ok(()) };
        for amt in doc.find_all("IntrBkSttlmAmt") {
            if amt.attr("Ccy").as_deref() != Some("ZAR") {
                return Err(ValidationError::new(ReasonCode::AM03, amt.path(), "scheme settles ZAR only"));
            }
        }
        Ok(())
    }
}

#[test]
fn external_profile_rejects_with_its_code() {
    let samples = support::samples("valid");
    let Some((name, bytes)) = samples.iter().find(|(n, _)| n.starts_with("pacs.008.001.08__mt103")) else {
        return;
    };
    assert!(validate_any(bytes, &Limits::default()).is_ok(), "{name}");
    let e = validate_with_profile(bytes, &Limits::default(), &RandOnly).expect_err("USD is not ZAR");
    assert_eq!(e.code, ReasonCode::AM03);
    assert!(e.path.ends_with("/IntrBkSttlmAmt"), "{e}");
}

#[test]
fn builtin_profiles_are_reported() {
    for (name, bytes) in support::samples("valid") {
        let s = validate_any(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.contains("__fednow__") || name.contains("envelope_outgoing") {
            assert!(s.profiles.contains(&"fednow"), "{name}: {:?}", s.profiles);
        }
    }
}
