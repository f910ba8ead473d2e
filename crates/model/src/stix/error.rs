//! The one error type of the STIX module: it names the object (index and id) and the property
//! that failed wherever they are known.

use std::fmt;

/// What went wrong, for callers that need to branch.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is not well-formed JSON (for example truncated).
    Json,
    /// The top-level value is not a STIX bundle, or a bundle property is malformed.
    Bundle,
    /// One object of the bundle is malformed.
    Object,
    /// A text is not a STIX identifier (`<type>--<uuid>`).
    Id,
    /// A text is not an RFC 3339 UTC timestamp.
    Timestamp,
    /// An observable has no STIX Cyber-observable Object form.
    Observable,
}

/// Why a STIX document, object, identifier or timestamp was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    object_index: Option<usize>,
    object_id: Option<String>,
    field: Option<String>,
    reason: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, reason: impl Into<String>) -> Error {
        Error { kind, object_index: None, object_id: None, field: None, reason: reason.into() }
    }

    pub(crate) fn with_field(mut self, field: impl Into<String>) -> Error {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn in_object(mut self, index: usize, id: Option<&str>) -> Error {
        self.object_index = Some(index);
        self.object_id = id.map(str::to_owned);
        if self.kind != ErrorKind::Json {
            self.kind = ErrorKind::Object;
        }
        self
    }

    /// Returns what went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Returns the position of the failing object in the bundle's `objects` list, if any.
    pub fn object_index(&self) -> Option<usize> {
        self.object_index
    }

    /// Returns the `id` of the failing object, if it had a readable one.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }

    /// Returns the name of the failing property, if known.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Returns the reason alone, without the location.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.object_index {
            write!(f, "object {index}")?;
            if let Some(id) = &self.object_id {
                write!(f, " ({id})")?;
            }
            f.write_str(": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "property {field}: ")?;
        }
        f.write_str(&self.reason)
    }
}
