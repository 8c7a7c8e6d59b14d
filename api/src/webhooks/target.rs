//! Where a webhook may be sent: only to public addresses over https, so a
//! partner cannot point the service at its own network (SSRF).
//!
//! The URL is checked when a subscription is written (a clear
//! `BAD_USER_INPUT`), and the addresses are checked again when a delivery
//! connects: the HTTP client resolves names through [`PublicOnly`], which
//! drops every address that is not public, so a name that later resolves to
//! 127.0.0.1 or 169.254.169.254 (DNS rebinding) is never connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which targets are allowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// https to public addresses only (production).
    PublicHttps,
    /// Also http, and loopback addresses (development and tests only).
    AllowLoopback,
}

/// Longest URL accepted.
pub const MAX_URL: usize = 2048;

/// Why a URL is refused, in words for the partner.
pub type Reason = String;

/// Checks a URL's form (without resolving it).
pub fn parse(url: &str, policy: Policy) -> Result<Url, Reason> {
    if url.len() > MAX_URL {
        return Err(format!("the URL may be at most {MAX_URL} characters"));
    }
    let parsed = Url::parse(url.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    match (parsed.scheme(), policy) {
        ("https", _) | ("http", Policy::AllowLoopback) => {}
        ("http", Policy::PublicHttps) => return Err("the URL must use https".into()),
        (other, _) => return Err(format!("the URL must use https, not {other}")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL may not carry a user name or password; authenticate the signature instead".into());
    }
    if parsed.fragment().is_some() {
        return Err("the URL may not have a #fragment".into());
    }
    let Some(host) = parsed.host_str() else {
        return Err("the URL has no host".into());
    };
    if let Some(ip) = literal_ip(host)
        && !allowed(ip, policy)
    {
        return Err(format!("{ip} is not a public address"));
    }
    let lower = host.to_ascii_lowercase();
    if policy == Policy::PublicHttps
        && (lower == "localhost"
            || lower.ends_with(".localhost")
            || lower.ends_with(".internal")
            || lower.ends_with(".local"))
    {
        return Err(format!("{host} is not a public host name"));
    }
    Ok(parsed)
}

/// Checks a URL's form and that its host resolves to allowed addresses only.
pub async fn check(url: &str, policy: Policy) -> Result<Url, Reason> {
    let parsed = parse(url, policy)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if literal_ip(&host).is_some() {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| format!("{host} does not resolve"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), policy)) {
        return Err(format!("{host} resolves to {}, which is not a public address", bad.ip()));
    }
    Ok(parsed)
}

fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Whether the client may connect to `ip` under `policy`.
pub fn allowed(ip: IpAddr, policy: Policy) -> bool {
    if policy == Policy::AllowLoopback && ip.is_loopback() {
        return true;
    }
    public(ip)
}

/// Whether `ip` is a public unicast address: not loopback, private,
/// link-local (cloud metadata lives there), shared (CGNAT), multicast,
/// documentation, benchmarking or reserved, in IPv4 or IPv6 (including
/// IPv4-mapped and NAT64 forms).
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID, ...)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
                || s[0] == 0 // ::/8 reserved, IPv4-compatible
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254))
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

/// A resolver for the delivery client that returns only allowed addresses,
/// so the connection goes to an address that was checked just now.
#[derive(Clone, Debug)]
pub struct PublicOnly(pub Policy);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| allowed(a.ip(), policy)).collect();
            if kept.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to no public address").into();
                return Err(error);
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!public(ip.parse().expect("ip")), "{ip} must not be public");
        }
        for ip in ["1.1.1.1", "203.0.114.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(public(ip.parse().expect("ip")), "{ip} is public");
        }
    }

    #[test]
    fn urls_are_checked_for_form() {
        let p = Policy::PublicHttps;
        assert!(parse("https://hooks.partner.example/x", p).is_ok());
        assert!(parse("http://hooks.partner.example/x", p).expect_err("refused").contains("https"));
        assert!(parse("https://127.0.0.1/x", p).expect_err("refused").contains("not a public address"));
        assert!(parse("https://[::1]/x", p).is_err());
        assert!(parse("https://169.254.169.254/latest/meta-data", p).is_err());
        assert!(parse("https://localhost/x", p).is_err());
        assert!(parse("https://user:pw@hooks.partner.example/", p).is_err());
        assert!(parse("ftp://hooks.partner.example/", p).is_err());
        assert!(parse("not a url", p).is_err());
        assert!(parse("http://127.0.0.1:9000/hook", Policy::AllowLoopback).is_ok());
        assert!(parse("http://10.0.0.1:9000/hook", Policy::AllowLoopback).is_err());
    }
}
