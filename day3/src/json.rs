//! Just enough JSON writing to answer without `serde`.
//!
//! Gluing user input into JSON with `format!` breaks as soon as the input
//! holds a `"`: the devlog's `format!("{{\"message\": \"Hello, {}!\"}}", name)`
//! turns `?name=a"b` into `{"message": "Hello, a"b!"}`, which is not JSON. The
//! two functions here escape every string and build objects from parts that
//! are already valid JSON, so the result is valid whatever the input.
//!
//! The final server uses `serde_json` instead; this file is what it replaces.

/// Encodes `text` as a JSON string literal, quotes included.
///
/// RFC 8259 (section 7) requires escaping `"`, `\` and the control
/// characters below U+0020. Everything else, `é` and `🦀` included, may
/// appear as it is, since JSON text is UTF-8.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds a JSON object from `(key, value)` pairs, in the order given.
///
/// Each value must already be JSON (from [`string`], another [`object`],
/// or a number); keys are escaped here.
pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&string(key));
        out.push(':');
        out.push_str(&value);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let rows = [
            ("plain", r#""plain""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r"back\slash", r#""back\\slash""#),
            ("line\nbreak\ttab", r#""line\nbreak\ttab""#),
            ("\u{1}", r#""\u0001""#),
            ("été 🦀", "\"été 🦀\""),
        ];
        for (input, expected) in rows {
            assert_eq!(string(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn objects_keep_their_order() {
        let json = object([("b", string("x")), ("a", "1".to_string())]);
        assert_eq!(json, r#"{"b":"x","a":1}"#);
    }
}
