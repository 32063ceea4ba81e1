//! The Leptos components of the popup and the settings page.

pub mod dream_view;
pub mod list;
pub mod markdown_view;
pub mod options;
pub mod popup;
pub mod shared;
