//! One try of one item: a signed HTTP POST to a webhook, or a mail handed to the SMTP relay.
//! Every try is bounded by the request timeout, so a hanging endpoint holds one worker for at
//! most that long. A failure is a short text for the outbox's `last_error`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use serde::{Deserialize, Serialize};

use super::key::signature;
use super::outbox::Item;

/// How the node reaches its SMTP relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or network).
    Plain,
    /// Plain SMTP upgraded with STARTTLS (required, not opportunistic).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// The node's SMTP settings. The password comes from an environment variable at start and is
/// held in memory only, never stored.
#[derive(Clone)]
pub struct Smtp {
    /// The relay's host name or address.
    pub host: String,
    /// The relay's port.
    pub port: u16,
    /// The sender address of every mail.
    pub from: String,
    /// Plain, STARTTLS or TLS.
    pub security: SmtpSecurity,
    /// The user name and password to authenticate with, when the relay asks for them.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// The body of an e-mail item: the recipient, the subject and the plain text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// POSTs `body` to `url`, signed with `secret` at `timestamp` (Unix seconds). Any 2xx is
/// success; a redirect is not followed (the organisation registers the final URL).
pub fn post_webhook(
    agent: &ureq::Agent,
    url: &str,
    secret: &str,
    item: &Item,
    body: &str,
    timestamp: i64,
) -> Result<(), String> {
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Watchfire-Event", item.event.as_str())
        .header("X-Watchfire-Delivery", &item.id)
        .header("X-Watchfire-Idempotency-Key", &item.idempotency_key)
        .header("X-Watchfire-Timestamp", timestamp.to_string())
        .header("X-Watchfire-Signature", signature(secret, timestamp, body.as_bytes()))
        .send(body);
    match response {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("http status {}", response.status().as_u16())),
        Err(ureq::Error::Timeout(_)) => Err("timed out".to_owned()),
        Err(error) => Err(format!("transport: {error}")),
    }
}

/// Returns the HTTP agent of webhook tries: `timeout` for each whole request, no redirects,
/// statuses read as answers. Unless `allow_private`, it connects to public addresses only:
/// a name that resolves to a loopback, private, link-local or other special address is refused
/// after resolution, at the address it would connect to, so a member's webhook cannot reach
/// into the node's own network (or a name re-pointed there after it was registered).
pub fn agent(timeout: Duration, allow_private: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("watchfire/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        PublicOnly {
            allow_private,
            inner: ureq::unversioned::resolver::DefaultResolver::default(),
        },
    )
}

/// Resolves as the default resolver does, then keeps public addresses only (unless allowed).
#[derive(Debug)]
struct PublicOnly {
    allow_private: bool,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.inner.resolve(uri, config, timeout)?;
        if self.allow_private {
            return Ok(resolved);
        }
        let mut public = self.empty();
        for address in resolved.iter().filter(|address| is_public(address.ip())) {
            public.push(*address);
        }
        match resolved.first() {
            Some(refused) if public.is_empty() => Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{} is not a public address", refused.ip()),
            ))),
            _ => Ok(public),
        }
    }
}

/// Whether a webhook may be sent to `address`: not loopback, private (RFC 1918, unique local),
/// shared (100.64.0.0/10), link-local, unspecified, documentation, benchmarking, multicast,
/// broadcast or reserved; an IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let special = address.is_unspecified()
        || address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_multicast()
        || address.is_broadcast()
        || address.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b));
    !special
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    let special = address.is_unspecified()
        || address.is_loopback()
        || address.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && address.segments()[1] == 0x0db8)
        || (first == 0x0064 && address.segments()[1] == 0xff9b)
        || address.segments()[..6] == [0, 0, 0, 0, 0, 0];
    !special
}

/// Hands `mail` to the relay. The Message-ID and `X-Watchfire-Idempotency-Key` are the same on
/// every try, so a reader (or a filter) can tell a repeat.
pub fn send_mail(smtp: &Smtp, item: &Item, mail: &Mail, timeout: Duration) -> Result<(), String> {
    let from = smtp.from.parse().map_err(|error| format!("smtp from address: {error}"))?;
    let to = mail.to.parse().map_err(|error| format!("recipient address: {error}"))?;
    let idempotency = HeaderValue::new(
        HeaderName::new_from_ascii_str("X-Watchfire-Idempotency-Key"),
        item.idempotency_key.clone(),
    );
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@watchfire>", item.id)))
        .raw_header(idempotency)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|error| format!("cannot build the mail: {error}"))?;
    let tls = |host: &str| {
        TlsParameters::new(host.to_owned()).map_err(|error| format!("smtp tls: {error}"))
    };
    let security = match smtp.security {
        SmtpSecurity::Plain => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(tls(&smtp.host)?),
        SmtpSecurity::Tls => Tls::Wrapper(tls(&smtp.host)?),
    };
    let mut transport = SmtpTransport::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .tls(security)
        .timeout(Some(timeout));
    if let Some((user, password)) = &smtp.credentials {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    match transport.build().send(&message) {
        Ok(_) => Ok(()),
        Err(error) => Err(format!("smtp: {error}")),
    }
}
