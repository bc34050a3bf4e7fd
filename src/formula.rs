//! CSV formula injection: a cell a spreadsheet would run as a formula is
//! written as text instead.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula (`=`, `+`,
/// `-`, `@`, and the tab and carriage return some of them skip first), plus
/// `'` itself, so that a value that starts with `'` survives the importer
/// stripping one.
const GUARDED: &[char] = &['=', '+', '-', '@', '\t', '\r', '\''];

/// `text` as a CSV cell that a spreadsheet shows as text: with a leading `'`
/// when it starts with `=`, `+`, `-`, `@`, a tab, a carriage return or `'`,
/// unchanged otherwise.
///
/// The importer strips a leading `'` from every cell, so a guarded cell
/// imports as the value it guards: `=1+1` is written `'=1+1` and imported as
/// `=1+1`, `'quoted` is written `''quoted` and imported as `'quoted`.
/// Exports and failure files guard every cell except phones in E.164, which
/// are never text a user typed.
///
/// ```
/// use contact_import::guard_formula;
/// assert_eq!(guard_formula("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(guard_formula("-5"), "'-5");
/// assert_eq!(guard_formula("Mohit Dua"), "Mohit Dua");
/// ```
pub fn guard_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(GUARDED) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}
