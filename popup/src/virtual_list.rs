//! Which rows of a long list are on screen, and which pages of results they need: only
//! those rows exist in the DOM, and only those pages are asked of the worker.

use std::ops::Range;

/// The rows to render for a scroll position: the visible ones plus `overscan` on each side,
/// so a short scroll shows rows that are already there.
pub fn visible_rows(scroll_top: f64, viewport_height: f64, row_height: f64, total: usize, overscan: usize) -> Range<usize> {
    if total == 0 || row_height.is_nan() || row_height <= 0.0 {
        return 0..0;
    }
    let scroll_top = if scroll_top.is_finite() { scroll_top.max(0.0) } else { 0.0 };
    let viewport_height = if viewport_height.is_finite() { viewport_height.max(0.0) } else { 0.0 };
    let first_visible = ((scroll_top / row_height).floor() as usize).min(total.saturating_sub(1));
    let last_visible = (((scroll_top + viewport_height) / row_height).ceil() as usize).min(total);
    let start = first_visible.saturating_sub(overscan);
    let end = last_visible.saturating_add(overscan).min(total).max(start + 1);
    start..end
}

/// The page numbers (of `page_size` rows each) that hold the given rows.
pub fn pages_for(rows: &Range<usize>, page_size: usize) -> Range<usize> {
    if rows.is_empty() || page_size == 0 {
        return 0..0;
    }
    rows.start / page_size..(rows.end - 1) / page_size + 1
}

/// The scroll position that brings row `index` fully into view with the least movement.
pub fn scroll_to_reveal(index: usize, scroll_top: f64, viewport_height: f64, row_height: f64) -> f64 {
    let top = index as f64 * row_height;
    let bottom = top + row_height;
    if top < scroll_top {
        top
    } else if bottom > scroll_top + viewport_height {
        (bottom - viewport_height).max(0.0)
    } else {
        scroll_top
    }
}

/// The row a keyboard key moves the selection to, or `None` for keys the list ignores.
pub fn row_after_key(key: &str, selected: Option<usize>, total: usize, rows_per_page: usize) -> Option<usize> {
    if total == 0 {
        return None;
    }
    let last = total - 1;
    let page = rows_per_page.max(1);
    let next = match (key, selected) {
        ("ArrowDown", None) | ("Home", _) => 0,
        ("ArrowUp", None) | ("End", _) => last,
        ("ArrowDown", Some(i)) => (i + 1).min(last),
        ("ArrowUp", Some(i)) => i.saturating_sub(1),
        ("PageDown", current) => current.map_or(0, |i| i.saturating_add(page)).min(last),
        ("PageUp", current) => current.map_or(0, |i| i.saturating_sub(page)),
        _ => return None,
    };
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_of_a_long_list_renders_a_screenful_plus_overscan() {
        // 560 px viewport, 56 px rows: 10 visible, 4 overscan below.
        assert_eq!(visible_rows(0.0, 560.0, 56.0, 10_000, 4), 0..14);
    }

    #[test]
    fn middle_of_the_list() {
        let rows = visible_rows(56.0 * 5000.0 + 20.0, 560.0, 56.0, 10_000, 4);
        assert_eq!(rows, 4996..5015);
        assert!(rows.len() < 30);
    }

    #[test]
    fn bottom_is_clamped_to_the_total() {
        assert_eq!(visible_rows(56.0 * 9995.0, 560.0, 56.0, 10_000, 4), 9991..10_000);
        // Scrolled past the end (the list shrank under the scroll position).
        assert_eq!(visible_rows(1e9, 560.0, 56.0, 10, 2), 7..10);
    }

    #[test]
    fn degenerate_inputs_give_sane_ranges() {
        assert_eq!(visible_rows(0.0, 560.0, 56.0, 0, 4), 0..0);
        assert_eq!(visible_rows(0.0, 560.0, 0.0, 10, 4), 0..0);
        assert_eq!(visible_rows(f64::NAN, f64::INFINITY, 56.0, 3, 1), 0..1);
        assert_eq!(visible_rows(0.0, 100.0, 56.0, 3, 1), 0..3);
        assert_eq!(visible_rows(-100.0, 0.0, 56.0, 3, 0), 0..1);
    }

    #[test]
    fn pages_cover_exactly_the_rows() {
        assert_eq!(pages_for(&(0..14), 50), 0..1);
        assert_eq!(pages_for(&(45..60), 50), 0..2);
        assert_eq!(pages_for(&(50..100), 50), 1..2);
        assert_eq!(pages_for(&(0..0), 50), 0..0);
        assert_eq!(pages_for(&(3..4), 0), 0..0);
    }

    #[test]
    fn reveal_scrolls_minimally() {
        assert_eq!(scroll_to_reveal(3, 0.0, 560.0, 56.0), 0.0);
        assert_eq!(scroll_to_reveal(10, 0.0, 560.0, 56.0), 56.0);
        assert_eq!(scroll_to_reveal(2, 560.0, 560.0, 56.0), 112.0);
    }

    #[test]
    fn keys_move_within_bounds() {
        assert_eq!(row_after_key("ArrowDown", None, 5, 10), Some(0));
        assert_eq!(row_after_key("ArrowDown", Some(4), 5, 10), Some(4));
        assert_eq!(row_after_key("ArrowUp", Some(0), 5, 10), Some(0));
        assert_eq!(row_after_key("End", Some(1), 5, 10), Some(4));
        assert_eq!(row_after_key("PageDown", Some(1), 100, 10), Some(11));
        assert_eq!(row_after_key("PageUp", Some(5), 100, 10), Some(0));
        assert_eq!(row_after_key("x", Some(1), 5, 10), None);
        assert_eq!(row_after_key("ArrowDown", None, 0, 10), None);
    }
}
