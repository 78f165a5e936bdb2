//! Finding the first repeated item of a list the peer sent (subprotocols,
//! extension parameters) in linear time: a head of a megabyte holds a
//! quarter of a million tokens, and comparing each with all before it took
//! minutes, on the thread that runs every case's timers.

use std::collections::HashSet;
use std::hash::Hash;

/// The first item equal to an item before it, if any: the same answer as
/// checking each item against all earlier ones, in one pass.
pub fn first_repeat<'a, T, I>(items: I) -> Option<&'a T>
where
    T: Eq + Hash + ?Sized + 'a,
    I: IntoIterator<Item = &'a T>,
{
    let mut seen = HashSet::new();
    items.into_iter().find(|item| !seen.insert(*item))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_first_item_that_repeats_an_earlier_one() {
        assert_eq!(first_repeat(["a", "b", "c"]), None);
        assert_eq!(first_repeat(["a", "b", "b", "a"]), Some("b"));
        assert_eq!(first_repeat(["a", "b", "c", "a", "b"]), Some("a"));
        assert_eq!(first_repeat(Vec::<&str>::new()), None);
    }

    #[test]
    fn many_distinct_items_are_checked_in_linear_time() {
        // Quadratically this is 4.5e10 comparisons: minutes even in release.
        // The bound only detects that; linearly it takes milliseconds.
        let items: Vec<String> = (0..300_000).map(|i| format!("t{i}")).collect();
        let started = Instant::now();
        assert_eq!(first_repeat(items.iter().map(String::as_str)), None);
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }

    #[test]
    fn a_deflate_offer_or_answer_with_many_parameters_is_judged_in_linear_time() {
        use crate::wire::deflate::{check_offers, parse_response};
        use crate::wire::extension_header::read_extensions;
        let params: String = (0..200_000).map(|i| format!("; p{i}")).collect();
        let started = Instant::now();
        let offer = read_extensions(&format!("permessage-deflate{params}"));
        // Past the duplicate check, the first unknown parameter is refused.
        assert!(check_offers(&offer).unwrap_err().contains("'p0'"));
        assert!(parse_response(&offer).unwrap_err().contains("'p0'"));
        let repeated = read_extensions(&format!("permessage-deflate{params}; p7"));
        assert!(parse_response(&repeated).unwrap_err().starts_with("multiple occurrence of extension parameter 'p7'"));
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }
}
