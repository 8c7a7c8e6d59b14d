//! Content negotiation for `/graphql` (GraphQL over HTTP): which media type
//! a response is in, from the request's `Accept` header.

use axum::http::{HeaderMap, header};

/// A media type `/graphql` answers in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/json`: the default. Request errors after a well-formed
    /// request answer 200, with `"data": null`.
    Json,
    /// `application/graphql-response+json`: request errors answer 4xx (or
    /// 5xx) without `data`; execution results answer 200.
    GraphQLResponse,
    /// `text/html`: the playground page (GET only, and only when asked for
    /// by name, above the JSON types).
    Html,
}

impl Media {
    /// The `Content-Type` of a response in this media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphQLResponse => "application/graphql-response+json",
            Media::Html => "text/html; charset=utf-8",
        }
    }
}

/// One media range of an `Accept` header.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: f32,
}

fn ranges(accept: &str) -> Vec<Range<'_>> {
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let (kind, subtype) = parts.next()?.trim().split_once('/')?;
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            Some(Range { kind: kind.trim(), subtype: subtype.trim(), q })
        })
        .collect()
}

/// The quality `accept` gives `kind/subtype`, from its most specific
/// matching range (wildcards only when `wildcards`), and whether that range
/// names the type itself.
fn quality(accept: &[Range<'_>], kind: &str, subtype: &str, wildcards: bool) -> (f32, bool) {
    let exact = |r: &&Range<'_>| r.kind.eq_ignore_ascii_case(kind) && r.subtype.eq_ignore_ascii_case(subtype);
    if let Some(r) = accept.iter().find(exact) {
        return (r.q, true);
    }
    if !wildcards {
        return (0.0, false);
    }
    let family = accept.iter().find(|r| r.kind.eq_ignore_ascii_case(kind) && r.subtype == "*");
    let any = accept.iter().find(|r| r.kind == "*" && r.subtype == "*");
    (family.or(any).map_or(0.0, |r| r.q), false)
}

/// The media type to answer a request with these headers in: the supported
/// one the client prefers. `application/graphql-response+json` when the
/// client prefers it, or names it as high as `application/json`;
/// `application/json` when the `Accept` header is missing, accepts anything
/// (`*/*`), or accepts nothing supported (the spec's alternative to 406).
/// `text/html` only when `html` is offered (GET) and the client names it
/// above both JSON types, as a browser does.
pub fn negotiate(headers: &HeaderMap, html: bool) -> Media {
    let accept: Vec<&str> = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect();
    let accept = accept.join(",");
    let accept = ranges(&accept);
    if accept.is_empty() {
        return Media::Json;
    }
    let (json, _) = quality(&accept, "application", "json", true);
    let (graphql, named) = quality(&accept, "application", "graphql-response+json", true);
    if html {
        let (page, _) = quality(&accept, "text", "html", false);
        if page > 0.0 && page > json.max(graphql) {
            return Media::Html;
        }
    }
    if graphql > 0.0 && (graphql > json || (named && graphql == json)) {
        return Media::GraphQLResponse;
    }
    Media::Json
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn pick(accept: Option<&str>, html: bool) -> Media {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).expect("header"));
        }
        negotiate(&headers, html)
    }

    #[test]
    fn the_spec_cases() {
        assert_eq!(pick(None, true), Media::Json);
        assert_eq!(pick(Some("*/*"), true), Media::Json);
        assert_eq!(pick(Some("application/*"), false), Media::Json);
        assert_eq!(pick(Some("application/json"), true), Media::Json);
        assert_eq!(pick(Some("application/graphql-response+json"), true), Media::GraphQLResponse);
        assert_eq!(
            pick(Some("application/graphql-response+json, application/json;q=0.9"), false),
            Media::GraphQLResponse
        );
        assert_eq!(pick(Some("application/json, application/graphql-response+json"), false), Media::GraphQLResponse);
        assert_eq!(pick(Some("application/graphql-response+json;q=0.5, application/json"), false), Media::Json);
        assert_eq!(pick(Some("application/json;q=0, */*"), false), Media::GraphQLResponse);
        assert_eq!(pick(Some("text/plain"), false), Media::Json);
    }

    #[test]
    fn browsers_get_the_page_and_clients_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        assert_eq!(pick(Some(browser), true), Media::Html);
        assert_eq!(pick(Some(browser), false), Media::Json);
        assert_eq!(pick(Some("text/html"), true), Media::Html);
        assert_eq!(pick(Some("text/html, application/json"), true), Media::Json);
        assert_eq!(pick(Some("text/*"), true), Media::Json);
    }
}
