//! IBAN checks (ISO 13616 / ISO 7064): the country must have IBANs, the length must be that
//! country's fixed length (SWIFT IBAN registry), and mod-97 of the rearranged number must be 1.
//! The national BBAN layout is deliberately not checked (RULES.md asks for length + mod-97).

/// `(country, IBAN length)` of every country in the SWIFT IBAN registry (89 countries,
/// checked against the registry's current release; HN and PK were missing before), sorted
/// by country. Territories the registry lists under another country (AX under FI, the French
/// overseas territories under FR, IM/JE/GG under GB) use that country's prefix.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Why an IBAN is invalid, or `None` when it is valid. Spaces are ignored, case is folded.
pub(crate) fn iban_problem(text: &str) -> Option<String> {
    let compact: Vec<u8> = text.bytes().filter(|b| *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
    if compact.len() < 5 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return Some("not an IBAN (too short or not alphanumeric)".into());
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, want)) = LENGTHS.iter().find(|(c, _)| *c == country) else {
        return Some(format!("country '{country}' has no IBANs"));
    };
    if compact.len() != want {
        return Some(format!("length {} but {country} IBANs have {want} characters", compact.len()));
    }
    if !compact[2..4].iter().all(u8::is_ascii_digit) {
        return Some("check digits are not numeric".into());
    }
    (mod97(&compact) != 1).then(|| "mod-97 check digits do not match".into())
}

/// ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end.
fn mod97(iban: &[u8]) -> u32 {
    iban[4..].iter().chain(&iban[..4]).fold(0u32, |acc, &b| {
        let v = if b.is_ascii_digit() { u32::from(b - b'0') } else { u32::from(b - b'A') + 10 };
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

/// Whether `text` is a valid IBAN (length for its country and mod-97).
#[must_use]
pub fn is_valid_iban(text: &str) -> bool {
    iban_problem(text).is_none()
}

#[cfg(test)]
mod tests {
    use super::is_valid_iban;

    #[test]
    fn rules_md_examples() {
        assert!(!is_valid_iban("GB29NWBK60161331926818"));
        assert!(is_valid_iban("GB29NWBK60161331926819"));
        assert!(is_valid_iban("DE89370400440532013000"));
        assert!(is_valid_iban("NO9386011117947"));
        assert!(!is_valid_iban("DE8937040044053201300"));
        assert!(!is_valid_iban("ZZ89370400440532013000"));
    }

    /// The table is sorted, has no duplicates, and holds the registry's 89 countries.
    #[test]
    fn length_table_is_the_registry() {
        assert!(super::LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(super::LENGTHS.len(), 89);
        assert!(is_valid_iban("PK36SCBL0000001123456702"));
        assert!(is_valid_iban("HN88CABF00000000000250005469"));
    }
}
