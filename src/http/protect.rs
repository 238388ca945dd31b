//! What guards every request and response, whatever the route: the security headers, a
//! handler's panic answered as 500, the client's address (through trusted proxies only), the
//! login checked before a staff form's body is read, and who may read `/metrics`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;

/// The pages' policy: nothing runs, styles and images only from Kansli itself (the pages have
/// no inline script or style), forms post only to Kansli, and no other site may frame them.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                           form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a handling shown in the browser (a protocol, an extract): self-contained
/// HTML whose only style is inline, shown in a sandbox where nothing can run or post.
pub(crate) const DOCUMENT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
                                          img-src data:; frame-ancestors 'none'; sandbox";

/// How Kansli is reached and what the operator trusts, from the server's settings.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// A token that lets a scraper read `/metrics` from elsewhere than this machine.
    pub metrics_token: Option<String>,
    /// Whether Kansli is reached over https (then browsers are told to keep to it, and
    /// cookies are sent over https only).
    pub https: bool,
    /// The origin people reach Kansli at (`https://kansli.kommun.se`), which a form's
    /// `Origin` may name when a proxy in front has rewritten the `Host` header.
    pub public_origin: Option<String>,
}

impl Protection {
    /// The protection the settings ask for; https when the address people reach Kansli at is
    /// an https one.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            trusted_proxies: settings.server.trusted_proxies.clone(),
            metrics_token: settings
                .server
                .metrics_token
                .clone()
                .filter(|t| !t.is_empty()),
            https: settings.mail.base_url.starts_with("https://"),
            public_origin: origin_of(&settings.mail.base_url),
        }
    }
}

/// The origin (`scheme://host[:port]`) of an address, without its path.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// Sets the security headers on every response: a handler that set its own policy or cache
/// rule keeps it.
pub(super) async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // A personal link's token is in its path: no page under it may pass it on to a site it
    // links to.
    let token_page = request.uri().path().starts_with("/enkat/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(PAGE_POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(match token_page {
            true => "no-referrer",
            false => "strict-origin-when-cross-origin",
        }),
    );
    // Staff pages, personal links and the API hold personal data: never kept by a browser or
    // a proxy. The few public resources that may be cached say so themselves.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if state.protection.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// A handler that panics is answered with 500 and logged; the connection and the process
/// go on.
pub(super) fn panic_answer(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, "internt fel").into_response()
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address
/// in `X-Forwarded-For` that is not one (a client can put anything at the start of that
/// header; only what the trusted proxies appended is believed).
pub(super) fn client_address(
    state: &AppState,
    request: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = request.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let trusted = &state.protection.trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer),
    )
}

/// POSTs that need no staff session: the login itself, personal links (their token is their
/// key) and the API (its bearer token is checked by its own layer before the body).
fn anonymous_post(path: &str) -> bool {
    path == "/logga-in" || path.starts_with("/enkat/") || path.starts_with("/api/")
}

/// Checks a staff POST's session, and that it comes from a page of Kansli's, before its body
/// is read: a visitor without a session is sent to log in and a form posted from another site
/// is refused, without the server reading (or holding in memory) what they sent. The form's
/// own CSRF token is checked again by its handler; a multipart form repeats it in its address
/// (`?csrf=`), so that an upload is refused before it is read.
pub(super) async fn sign_in_before_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() != Method::POST || anonymous_post(path) {
        return next.run(request).await;
    }
    if !same_origin(request.headers(), state.protection.public_origin.as_deref()) {
        tracing::warn!(path, "a form posted from another site was refused");
        return (StatusCode::FORBIDDEN, "formuläret kom inte från Kansli").into_response();
    }
    let user = match super::staff::session_token(request.headers()) {
        Some(token) => state.kansli.session_user(&token).await,
        None => Ok(None),
    };
    let user = match user {
        Ok(Some(user)) => user,
        // The form cannot be sent again after login (its body is gone), so back to the page
        // it came from, through the login.
        Ok(None) => return Redirect::to("/logga-in").into_response(),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if multipart {
        let token = request
            .uri()
            .query()
            .and_then(|q| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| *k == "csrf")
            })
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default();
        if let Some(stale) = super::staff::csrf_refusal(&user, &token) {
            return stale;
        }
    }
    next.run(request).await
}

/// Whether a POST's `Origin` (sent by every browser on a POST) is this server: the same host
/// and port as the request's `Host`, or the origin people reach Kansli at (`public`, for a
/// proxy that rewrites `Host`). A request without `Origin` is not a browser's cross-site form
/// and is left to the form's token.
fn same_origin(headers: &HeaderMap, public: Option<&str>) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if public.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Whether the request may read `/metrics`: from this machine, or with the configured token as
/// `Authorization: Bearer`.
pub(super) fn may_read_metrics(
    state: &AppState,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> bool {
    if let Some(expected) = &state.protection.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if super::staff::same_token(given, expected) {
            return true;
        }
    }
    // The peer itself, not a forwarded address: a proxy on this machine forwards strangers.
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback())
        && !headers.contains_key("x-forwarded-for")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(*k, v.parse().unwrap());
        }
        headers
    }

    /// A handler that panics is answered with 500, and the server answers the next request.
    #[tokio::test]
    async fn a_panic_is_a_500_and_the_server_goes_on() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(|| async {
                    if std::hint::black_box(true) {
                        panic!("a bug");
                    }
                    "never"
                }),
            )
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_answer,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        for _ in 0..2 {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
            assert!(answer.ends_with("internt fel"), "{answer}");
        }
        server.abort();
    }

    #[test]
    fn only_an_origin_of_this_host_or_the_public_address_is_the_same() {
        assert!(same_origin(&with(&[("host", "127.0.0.1:8080")]), None));
        assert!(same_origin(
            &with(&[
                ("host", "kansli.norrvika.se"),
                ("origin", "https://kansli.norrvika.se")
            ]),
            None
        ));
        assert!(!same_origin(
            &with(&[
                ("host", "kansli.norrvika.se"),
                ("origin", "https://evil.example")
            ]),
            None
        ));
        assert!(!same_origin(
            &with(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            None
        ));
        // Behind a proxy that sends its own Host, the public address is this server.
        let public = origin_of("https://Kansli.Norrvika.se/");
        assert_eq!(public.as_deref(), Some("https://kansli.norrvika.se"));
        let proxied = with(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://kansli.norrvika.se"),
        ]);
        assert!(same_origin(&proxied, public.as_deref()));
        assert!(!same_origin(&proxied, None));
    }
}
