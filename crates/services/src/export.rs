//! What leaves the platform as files people open in a spreadsheet.

use std::borrow::Cow;

/// A text cell as a spreadsheet must not read it as a formula: one that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading apostrophe (OWASP's CSV injection
/// advice). Department files and what people type travel into exports; a cell like
/// `=HYPERLINK("http://…")` would otherwise run on the clerk's machine.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_untouched() {
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_safe("+1"), "'+1");
        assert_eq!(spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("张三"), "张三");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
