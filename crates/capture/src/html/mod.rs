//! HTML → Markdown for message bodies.
