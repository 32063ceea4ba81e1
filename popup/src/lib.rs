//! The popup dashboard and the settings page of the Dreamcatcher extension (Leptos, rendered
//! in the browser). Both pages are built into one wasm module with two entry points
//! ([`entry`]); everything they ask of the outside world goes through a [`backend::Backend`].
#![deny(clippy::unwrap_used)]

pub mod backend;
pub mod browser;
pub mod entry;
pub mod filters;
pub mod format;
pub mod highlight;
pub mod markdown;
#[cfg(feature = "demo")]
pub mod memory;
pub mod sync_text;
pub mod ui;
pub mod validate;
pub mod virtual_list;
pub mod worker;

use std::rc::Rc;

use leptos::mount::mount_to;
use leptos::prelude::*;

use crate::backend::{Backend, BackendHandle};

/// Which page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Popup,
    Options,
}

/// Mounts a page into `parent` with the given backend. The returned handle unmounts it when
/// dropped; the entry points keep it for the page's lifetime.
pub fn mount(
    parent: web_sys::HtmlElement,
    page: Page,
    backend: Rc<dyn Backend>,
) -> leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState> {
    mount_to(parent, move || {
        provide_context(BackendHandle::new(backend));
        match page {
            Page::Popup => view! { <ui::popup::PopupApp /> }.into_any(),
            Page::Options => view! { <ui::options::OptionsApp /> }.into_any(),
        }
    })
}
