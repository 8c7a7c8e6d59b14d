//! CSV lines of an export: RFC 4180 (fields with a comma, a quote or a line
//! break are quoted, quotes doubled; CRLF line ends), UTF-8.

use serde_json::Value;

/// Appends one CSV record of `cells` to `out`.
pub fn record<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    for (n, cell) in cells.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// The cell of a node's value: text as it is, numbers and booleans as JSON
/// writes them, null as an empty cell, a list (of scalars or enums) as its
/// JSON text.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Appends the row of `node` for `columns` to `out`.
pub fn row(out: &mut Vec<u8>, columns: &[String], node: &Value) {
    let cells: Vec<String> = columns.iter().map(|c| cell(node.get(c))).collect();
    record(out, cells.iter().map(String::as_str));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let mut out = Vec::new();
        record(&mut out, ["code", "nameEn"]);
        row(
            &mut out,
            &["code".into(), "nameEn".into(), "n".into()],
            &serde_json::json!({"code": "C-1", "nameEn": "Ban \"Tha\", Nan", "n": 3}),
        );
        assert_eq!(String::from_utf8(out).unwrap(), "code,nameEn\r\nC-1,\"Ban \"\"Tha\"\", Nan\",3\r\n");
    }
}
