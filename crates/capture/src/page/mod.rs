//! Chat pages, one module per site generation.
