//! "Did you mean ...?": the closest known name to a misspelt one.

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(input, c), c))
        .filter(|(distance, c)| *distance <= (input.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let keys = ["replicas", "image", "ports"];
        assert_eq!(closest("replicass", keys), Some("replicas"));
        assert_eq!(closest("imgae", keys), Some("image"));
        assert_eq!(closest("database", keys), None);
    }
}
