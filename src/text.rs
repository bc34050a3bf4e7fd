//! The text of a cell as an import reads it: trimmed of whitespace and of
//! what copy-paste leaves at its ends, without a spreadsheet's text marker.
//! A leaf: every module that reads cells (normalizing, the report's failure
//! file, phones) uses it, and it uses none of them.

/// Trims whitespace and the invisible characters copy-paste leaves at the
/// ends of a cell (zero-width space, word joiner, byte order mark).
#[inline]
fn trim_cell(text: &str) -> &str {
    trim_with(text, |c| matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}'))
}

/// `text` without the whitespace and the characters `also` names at its
/// ends. Most cells end in printable ASCII on both sides, and names in
/// Indian scripts in letters: one look at each end tells.
pub(crate) fn trim_with(text: &str, also: impl Fn(char) -> bool) -> &str {
    let printable = |b: Option<&u8>| b.is_none_or(u8::is_ascii_graphic);
    if printable(text.as_bytes().first()) && printable(text.as_bytes().last()) {
        return text;
    }
    let trimmed = text.trim_ascii();
    let bytes = trimmed.as_bytes();
    if printable(bytes.first()) && printable(bytes.last()) {
        return trimmed;
    }
    let trimmable = |c: char| c.is_whitespace() || also(c);
    let mut chars = trimmed.chars();
    let ends = (chars.next(), chars.next_back());
    if !ends.0.is_some_and(trimmable) && !ends.1.is_some_and(trimmable) {
        return trimmed;
    }
    trimmed.trim_matches(trimmable)
}

/// The value an import reads from a cell's text: trimmed, without the
/// leading `'` of a spreadsheet's text marker.
#[inline]
pub(crate) fn read_cell(text: &str) -> &str {
    unquote(trim_cell(text))
}

/// Strips the leading `'` a spreadsheet (or an export guarding against
/// formula injection) puts before text.
pub(crate) fn unquote(text: &str) -> &str {
    text.strip_prefix('\'').unwrap_or(text)
}
