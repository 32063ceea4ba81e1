//! The REST handlers.

pub mod changes;
pub mod dreams;
pub mod implement;
pub mod import;
pub mod ops;
pub mod pair;
