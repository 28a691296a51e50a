//! docs/ISO20022.md documents every rule of the reason-code table with its code.

use switchyard_iso20022::Rule;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ISO20022.md");

#[test]
fn every_rule_is_documented_with_its_code() {
    let Ok(doc) = std::fs::read_to_string(DOC) else {
        println!("NOTICE: docs/ISO20022.md not found; skipping");
        return;
    };
    for rule in Rule::ALL {
        let row = format!("| `{}` | {} |", rule.id(), rule.code());
        assert!(doc.contains(&row), "docs/ISO20022.md lacks the row for {rule:?}: {row}");
    }
}
