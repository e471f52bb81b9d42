//! Realistic "First Last" names from the 1990 US Census frequency lists bundled in `data/eval/names/` (licence in
//! `data/LICENSES/names.txt`): 5,494 first names (female and male) and 88,799 surnames.

use std::sync::OnceLock;

use birdie_core::rng::SampleRng;
use rand::Rng;

static FEMALE: &str = include_str!("../data/names/female_first.txt");
static MALE: &str = include_str!("../data/names/male_first.txt");
static LAST: &str = include_str!("../data/names/last.txt");

/// "SMITH" → "Smith".
fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

fn list(text: &'static str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(title_case).collect()
}

/// The name lists.
pub struct Names {
    pub first: Vec<String>,
    pub last: Vec<String>,
}

impl Names {
    /// The bundled lists (parsed once).
    pub fn bundled() -> &'static Names {
        static NAMES: OnceLock<Names> = OnceLock::new();
        NAMES.get_or_init(|| {
            let mut first = list(FEMALE);
            first.extend(list(MALE));
            first.sort();
            first.dedup();
            Names { first, last: list(LAST) }
        })
    }

    /// A uniformly drawn "First Last".
    pub fn draw(&self, rng: &mut SampleRng) -> String {
        let f = &self.first[rng.random_range(0..self.first.len())];
        let l = &self.last[rng.random_range(0..self.last.len())];
        format!("{f} {l}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_complete_and_title_cased() {
        let n = Names::bundled();
        assert!(n.first.len() > 5000 && n.last.len() == 88_799, "{} {}", n.first.len(), n.last.len());
        assert!(n.last.contains(&"Smith".to_string()));
        let mut rng = SampleRng::from_seed_u64(1);
        let name = n.draw(&mut rng);
        let parts: Vec<&str> = name.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.chars().next().unwrap().is_uppercase()));
    }
}
