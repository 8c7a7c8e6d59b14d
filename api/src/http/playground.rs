//! The GraphiQL playground: bundled into the binary (built from
//! `api/playground` by `build.rs`), so it works without internet access. In
//! development the headers editor starts with a read-only demo token.

use axum::http::header;
use axum::response::{Html, IntoResponse};

/// Whether the bundled assets are in this build.
pub const BUNDLED: bool = cfg!(not(playground_cdn));

#[cfg(not(playground_cdn))]
const SCRIPT: &str = include_str!(concat!(env!("OUT_DIR"), "/playground/playground.js"));
#[cfg(not(playground_cdn))]
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/playground/playground.css"));
#[cfg(playground_cdn)]
const SCRIPT: &str = "";
#[cfg(playground_cdn)]
const STYLE: &str = "";

/// The page, with `headers` (JSON text) as the headers editor's initial content.
pub fn page(headers: Option<&str>) -> String {
    if !BUNDLED {
        let source = async_graphql::http::GraphiQLSource::build().endpoint("/graphql").title("Partner records API");
        return match headers {
            Some(h) => {
                let token = serde_json::from_str::<serde_json::Value>(h)
                    .ok()
                    .and_then(|v| v["Authorization"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                source.header("Authorization", &token).finish()
            }
            None => source.finish(),
        };
    }
    let config = serde_json::json!({
        "endpoint": "/graphql",
        "headers": headers,
        "defaultQuery": "# Partner records API. Open the docs (book icon) to explore the schema.\n{\n  viewer { organization { code nameEn } scopes }\n  communities(first: 5, filter: {tiers: [C]}) { totalCount nodes { code nameTh province { nameEn } } }\n}\n",
    });
    // `</` is escaped so the JSON cannot end the script element.
    let config = config.to_string().replace("</", "<\\/");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Partner records API</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/playground/playground.css\">\
         <style>html,body,#graphiql{{height:100%;margin:0}}</style></head>\
         <body><div id=\"graphiql\"></div><script>window.PLAYGROUND_CONFIG = {config};</script>\
         <script src=\"/playground/playground.js\"></script></body></html>"
    )
}

/// GET /playground/playground.js
pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        SCRIPT,
    )
}

/// GET /playground/playground.css
pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLE)
}

/// Serves the page.
pub fn html(page: &str) -> Html<String> {
    Html(page.to_owned())
}
