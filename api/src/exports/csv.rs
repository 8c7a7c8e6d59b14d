//! CSV lines of an export: RFC 4180 (fields with a comma, a quote or a line
//! break are quoted, quotes doubled; CRLF line ends), UTF-8.

use async_graphql::Value as ConstValue;

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

/// The cell of a node's value: text and enums as they are, numbers and
/// booleans as JSON writes them, null as an empty cell, a list (of scalars
/// or enums) as its JSON text.
pub fn cell(value: Option<&ConstValue>) -> String {
    match value {
        None | Some(ConstValue::Null) => String::new(),
        Some(ConstValue::String(s)) => s.clone(),
        Some(ConstValue::Enum(name)) => name.to_string(),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Appends the row of `node` for `columns` to `out`.
pub fn row(out: &mut Vec<u8>, columns: &[String], node: &ConstValue) {
    let cells: Vec<String> = columns
        .iter()
        .map(|c| {
            cell(match node {
                ConstValue::Object(map) => map.get(c.as_str()),
                _ => None,
            })
        })
        .collect();
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
            &ConstValue::from_json(serde_json::json!({"code": "C-1", "nameEn": "Ban \"Tha\", Nan", "n": 3}))
                .expect("a JSON object"),
        );
        assert_eq!(String::from_utf8(out).expect("UTF-8"), "code,nameEn\r\nC-1,\"Ban \"\"Tha\"\", Nan\",3\r\n");
    }
}
