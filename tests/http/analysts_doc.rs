//! `docs/analysts.md` answers the seed's questions with queries and their
//! results on the demo data: this test runs every query of the guide that is
//! followed by a ```` ```json result ```` block (with the variables of a
//! ```` ```json variables ```` block between them, if any) through the real
//! endpoint, with the playground's read-only token, and checks the response's
//! `data` is the result shown. `UPDATE_DOCS=1` rewrites the result blocks
//! from what the SQLite run returned.

use black_box_tests::{TestApp, on_both};
use serde_json::{Value, json};

on_both!(every_result_in_the_analysts_guide_is_what_the_query_returns);

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/analysts.md");

/// The scopes of the playground's development token (see the guide).
const PLAYGROUND_SCOPES: [&str; 6] =
    ["communities:read", "mous:read", "programmes:read", "curricula:read", "enrolments:read", "changes:read"];

/// A fenced block of the guide: its info string, its text, and the lines
/// (start, end) of its body.
struct Block {
    info: String,
    body: String,
    lines: (usize, usize),
}

fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(info) = lines[i].strip_prefix("```")
            && !info.is_empty()
        {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end] != "```" {
                end += 1;
            }
            out.push(Block { info: info.trim().to_owned(), body: lines[start..end].join("\n"), lines: (start, end) });
            i = end;
        }
        i += 1;
    }
    out
}

/// (query, variables, the result block) for every checked example.
fn examples(blocks: &[Block]) -> Vec<(&Block, Value, &Block)> {
    let mut out = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if block.info != "graphql" {
            continue;
        }
        let mut next = i + 1;
        let mut variables = json!({});
        if let Some(v) = blocks.get(next).filter(|b| b.info == "json variables") {
            variables = serde_json::from_str(&v.body).expect("variables are JSON");
            next += 1;
        }
        if let Some(result) = blocks.get(next).filter(|b| b.info == "json result") {
            out.push((block, variables, result));
        }
    }
    out
}

async fn every_result_in_the_analysts_guide_is_what_the_query_returns(app: TestApp) {
    let text = std::fs::read_to_string(PATH).expect("read docs/analysts.md");
    let blocks = blocks(&text);
    let examples = examples(&blocks);
    assert!(examples.len() >= 5, "the guide answers the seed's questions with results");
    let token = app.token("FOUNDATION", &PLAYGROUND_SCOPES);
    let update =
        std::env::var("UPDATE_DOCS").is_ok() && app.sql().await.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Rewritten from the end, so earlier line numbers stay right.
    for (query, variables, result) in examples.iter().rev() {
        let data = app.ok(&token, &query.body, variables.clone()).await;
        let got = serde_json::to_string_pretty(&data).expect("json");
        if update {
            lines.splice(result.lines.0..result.lines.1, got.lines().map(str::to_owned));
            continue;
        }
        let shown: Value = serde_json::from_str(&result.body)
            .unwrap_or_else(|e| panic!("docs/analysts.md:{}: the result is not JSON: {e}", result.lines.0));
        assert_eq!(
            data, shown,
            "docs/analysts.md:{}: the result shown is not what the query returns \
             (UPDATE_DOCS=1 cargo test -p black-box-tests --test http analysts_doc rewrites it)",
            result.lines.0
        );
    }
    if update {
        std::fs::write(PATH, lines.join("\n") + "\n").expect("write docs/analysts.md");
    }
    playground_examples_run(&app, &token).await;
}

/// The playground's saved examples (`api/playground/src/examples.js`) run
/// without errors on the demo data and answer something.
async fn playground_examples_run(app: &TestApp, token: &str) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/playground/src/examples.js"))
        .expect("read examples.js");
    let mut count = 0;
    for part in text.split("    query: `").skip(1) {
        let (query, rest) = part.split_once('`').expect("a closed template literal");
        let variables = rest
            .split_once("variables: ")
            .filter(|(before, _)| !before.contains("query: "))
            .and_then(|(_, v)| v.lines().next())
            .map(|v| serde_json::from_str(v.trim_end_matches(',')).expect("variables written as JSON"))
            .unwrap_or_else(|| json!({}));
        let data = app.ok(token, query, variables).await;
        assert!(data.as_object().is_some_and(|o| !o.is_empty()), "{query}");
        count += 1;
    }
    assert_eq!(count, 3, "the three saved examples");
}
