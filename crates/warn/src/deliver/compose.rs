//! What is sent: the webhook body of an alert version, the mail of one alert, and the digest
//! mail of a period (plain text, counts by severity, one line per alert).

use serde_json::{Value, json};

use super::outbox::Event;
use super::send::Mail;
use crate::{Alert, Severity};

/// The most alerts listed one per line in a digest; the counts still count them all.
pub const MAX_DIGEST_LINES: usize = 500;

/// Returns the webhook body of an alert version: the event, the idempotency key and the alert
/// object as stored on the log.
pub fn webhook_body(event: Event, idempotency_key: &str, alert: &Alert, stored: &str) -> String {
    let object: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    let body = json!({
        "event": event.as_str(),
        "idempotency_key": idempotency_key,
        "organisation": alert.organisation.map(|org| org.0.to_string()),
        "alert": object,
    });
    body.to_string()
}

/// Returns the mail of one alert version.
pub fn alert_mail(to: &str, org_name: &str, event: Event, alert: &Alert) -> Mail {
    let update = if event == Event::AlertUpdated { "update: " } else { "" };
    let subject = format!(
        "[watchfire] {update}{} {} {}: {}",
        alert.severity,
        alert.direction,
        alert.category,
        alert.observable.value()
    );
    let mut text = format!("watchfire alert for {org_name}\n\n");
    let mut line = |name: &str, value: String| text.push_str(&format!("{name:<12} {value}\n"));
    line("alert", alert.id.clone());
    line("severity", format!("{} (score {})", alert.severity, alert.score));
    line("status", alert.status.to_string());
    line("direction", alert.direction.to_string());
    line("category", alert.category.to_string());
    line(
        "observable",
        format!("{} {}", alert.observable.kind().as_str(), alert.observable.value()),
    );
    if let Some(matched) = &alert.matched {
        line("matched", format!("{} {}", matched.kind, matched.value));
    }
    if let Some(event_type) = &alert.event_type {
        line("report", event_type.clone());
    }
    if let Some(port) = alert.port {
        line("port", port.to_string());
    }
    line("reports", format!("{} from {}", alert.count, alert.sources.join(", ")));
    line("first seen", alert.first_seen.to_string());
    line("last seen", alert.last_seen.to_string());
    text.push_str("\nThis alert is TLP:AMBER+STRICT: for your organisation only.\n");
    Mail { to: to.to_owned(), subject, text }
}

/// Returns the digest mail of `alerts` (the latest version of each alert of the period) for the
/// period from `start` to `end` (RFC 3339 texts).
pub fn digest_mail(to: &str, org_name: &str, start: &str, end: &str, alerts: &[Alert]) -> Mail {
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.last_seen.cmp(&a.last_seen)));
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|severity| {
            let n = alerts.iter().filter(|alert| alert.severity == *severity).count();
            format!("{severity} {n}")
        })
        .collect();
    let subject = format!("[watchfire] digest for {org_name}: {} alerts", alerts.len());
    let mut text = format!(
        "watchfire digest for {org_name}\nperiod: {start} to {end}\nalerts: {} ({})\n\n",
        alerts.len(),
        counts.join(", ")
    );
    for alert in sorted.iter().take(MAX_DIGEST_LINES) {
        text.push_str(&format!(
            "{:<8} {:<12} {:<9} {:<24} {} count={} last_seen={} id={}\n",
            alert.severity.as_str(),
            alert.status.as_str(),
            alert.direction.as_str(),
            alert.category.as_str(),
            alert.observable.value(),
            alert.count,
            alert.last_seen,
            alert.id
        ));
    }
    if sorted.len() > MAX_DIGEST_LINES {
        text.push_str(&format!("... and {} more\n", sorted.len() - MAX_DIGEST_LINES));
    }
    text.push_str("\nThese alerts are TLP:AMBER+STRICT: for your organisation only.\n");
    Mail { to: to.to_owned(), subject, text }
}
