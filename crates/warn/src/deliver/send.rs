//! One try of one item: a signed HTTP POST to a webhook, or a mail handed to the SMTP relay.
//! Every try is bounded by the request timeout, so a hanging endpoint holds one worker for at
//! most that long. A failure is a short text for the outbox's `last_error`.

use std::fmt;
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
/// statuses read as answers.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("watchfire/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
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
