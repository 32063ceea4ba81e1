//! Conversation JSON: the sites' web APIs and official exports.
