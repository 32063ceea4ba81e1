use std::fmt;
use std::path::Path;

/// What went wrong and with which file: printed as one line.
#[derive(Debug)]
pub struct Failure {
    pub subject: String,
    pub message: String,
}

impl Failure {
    pub fn at(path: &Path, message: impl fmt::Display) -> Self {
        Failure { subject: path.display().to_string(), message: message.to_string() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, however the underlying error was formatted.
        let message = self.message.split_whitespace().collect::<Vec<_>>().join(" ");
        write!(f, "{}: {}", self.subject, message)
    }
}
