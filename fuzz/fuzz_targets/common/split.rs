//! Cutting fuzz input into pieces at arbitrary points (shared by targets
//! with `#[path = "common/split.rs"]`).

/// `data` cut at `cuts` (taken modulo its length, in order).
pub fn pieces<'a>(data: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % (data.len() + 1)).collect();
    points.sort_unstable();
    let mut pieces = Vec::with_capacity(points.len() + 1);
    let mut last = 0;
    for p in points {
        pieces.push(&data[last..p]);
        last = p;
    }
    pieces.push(&data[last..]);
    pieces
}
