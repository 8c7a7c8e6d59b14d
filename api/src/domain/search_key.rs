//! The search key: text folded the way people type it, so a search finds a
//! name whatever marks the user left out.
//!
//! Folding (the same for stored keys and for what a user searches):
//! - canonical decomposition (NFD), so NFC and NFD input fold alike and a
//!   Latin letter's accents come apart from it;
//! - combining marks dropped outside Thai (é → e, ü → u);
//! - in Thai, the tone marks ่ ้ ๊ ๋ and the other diacritics ็ (mai taikhu),
//!   ์ (thanthakhat), ๎ (yamakkan) dropped; vowels stay, since users type
//!   them; nikhahit followed by sara aa (ํา, a common way to type it) is
//!   sara am (ำ);
//! - lowercase, and runs of white space made one space.
//!
//! A record's key joins the folded fields with a line break, which no
//! folded search text contains, so a match never spans two fields.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Thai marks a search ignores: tone marks, mai taikhu, thanthakhat, yamakkan.
fn thai_ignored(c: char) -> bool {
    matches!(c, '\u{0E47}'..='\u{0E4C}' | '\u{0E4E}')
}

fn thai(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

/// Folds `text` for searching.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd() {
        if thai_ignored(c) || (!thai(c) && is_combining_mark(c)) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out.replace("\u{0E4D}\u{0E32}", "\u{0E33}")
}

/// The search key of a record: its folded fields, one per line.
pub fn key<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    fields.into_iter().flatten().map(fold).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_marks_and_diacritics_are_ignored() {
        assert_eq!(fold("บ้านแม่กำปอง"), fold("บานแมกำปอง"));
        assert_eq!(fold("ศูนย์"), "ศูนย");
        assert_eq!(fold("เก็บ"), "เกบ");
    }

    #[test]
    fn nfc_and_nfd_fold_alike() {
        let nfc = "Caf\u{e9}";
        let nfd = "Cafe\u{301}";
        assert_eq!(fold(nfc), "cafe");
        assert_eq!(fold(nfd), "cafe");
    }

    #[test]
    fn sara_am_typed_as_two_characters_is_sara_am() {
        assert_eq!(fold("น\u{0E4D}\u{0E32}"), fold("น\u{0E33}"));
        assert_eq!(fold("น\u{0E49}\u{0E4D}\u{0E32}"), fold("น้ำ"));
    }

    #[test]
    fn case_and_spaces_fold() {
        assert_eq!(fold("  Ban   Mae KAMPONG "), "ban mae kampong");
        assert_eq!(key([Some("บ้าน"), None, Some("CM-01")]), "บาน\ncm-01");
    }
}
