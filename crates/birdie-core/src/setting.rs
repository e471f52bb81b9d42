//! [`InvalidSetting`]: the error of a configuration value outside what its key accepts.

use std::fmt::Display;

/// A setting whose value its key does not accept: names the key as written in a config file, the value, and what
/// was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {value}: expected {expected}")]
pub struct InvalidSetting {
    pub key: String,
    pub value: String,
    pub expected: String,
}

impl InvalidSetting {
    pub fn new(key: impl Into<String>, value: impl Display, expected: impl Into<String>) -> Self {
        InvalidSetting { key: key.into(), value: value.to_string(), expected: expected.into() }
    }
}

/// `Err(InvalidSetting)` unless `ok`.
pub fn check(ok: bool, key: &str, value: impl Display, expected: &str) -> Result<(), InvalidSetting> {
    if ok {
        Ok(())
    } else {
        Err(InvalidSetting::new(key, value, expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_key_value_and_expectation() {
        assert_eq!(check(true, "a.b", 0, "x"), Ok(()));
        let e = check(false, "controller.top_n", 0, "at least 1").unwrap_err();
        assert_eq!(e.to_string(), "controller.top_n = 0: expected at least 1");
    }
}
