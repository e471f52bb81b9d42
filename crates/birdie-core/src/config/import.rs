//! Importer for birdie_rl-style objective lists (design §3.1, §3.7): a JSON array of objects with `name` (the
//! registry name), `prob` and the reference's parameter keys, top-level or under `config_overrides`.
//!
//! The reference reads `config_overrides` in training and top-level keys in validation (B1); here both are merged
//! into one typed parameter record per arm (`config_overrides` wins on conflict, reported). Reference keys that have
//! no effect in birdie (prompt strings — birdie uses paradigm *tokens* — seeds, verbosity) are accepted and
//! reported; any other key is an error naming the entry and key.

use serde_json::{Map, Value};

use super::ConfigError;
use crate::arm::{Arm, ObjectiveSpec, ParadigmPlacement};
use crate::objectives::{FormatStyle, SelectiveCopyingParams};
use birdie_data::SENTINEL_COUNT;

/// What the importer did besides building arms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// `entry[i].key: reason` for every accepted key without effect, clamped value or resolved conflict.
    pub notes: Vec<String>,
}

/// Keys of the reference that are accepted but have no effect here.
const NO_EFFECT: [&str; 19] = [
    "paradigm",
    "paradigm_str",
    "paradigm_prompt",
    "paradigm_token",
    "paradigm_end",
    "paradigm_suffix",
    "mask_prefix",
    "mask_suffix",
    "rng_seed",
    "objective_verbosity",
    "separator",
    "gap_between_spans",
    "min_context_content_length",
    "special_token_ids",
    "use_begin_generating_paradigm",
    "minimum_sequence_length",
    "minimum_remaining_space",
    "maximum_sequence_length",
    "remaining_space",
];

/// Imports a birdie_rl objective list (JSON text).
pub fn import_birdie_rl(json: &str, source_name: &str) -> Result<(Vec<Arm>, ImportReport), ConfigError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| ConfigError::Parse { source_name: source_name.to_string(), message: e.to_string() })?;
    let list = value.as_array().ok_or_else(|| ConfigError::Parse {
        source_name: source_name.to_string(),
        message: "expected a JSON array of objective objects".into(),
    })?;
    if list.is_empty() {
        return Err(ConfigError::NoArms { source_name: source_name.to_string() });
    }
    let mut report = ImportReport::default();
    let mut arms = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let here = format!("[{i}]");
        let err = |key: &str, message: String| ConfigError::Arm {
            source_name: source_name.to_string(),
            path: if key.is_empty() { here.clone() } else { format!("{here}.{key}") },
            message,
        };
        let obj = entry.as_object().ok_or_else(|| err("", "expected an object".into()))?;
        let mut keys: Map<String, Value> = obj.clone();
        if let Some(over) = keys.remove("config_overrides") {
            let over = over.as_object().ok_or_else(|| err("config_overrides", "expected an object".into()))?;
            for (k, v) in over {
                if let Some(old) = keys.insert(k.clone(), v.clone()) {
                    if &old != v {
                        report.notes.push(format!("{here}.{k}: config_overrides value {v} replaces top-level {old}"));
                    }
                }
            }
        }
        let name = keys
            .remove("name")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| err("name", "missing objective name".into()))?;
        let mut spec = ObjectiveSpec::default_for(&name).ok_or_else(|| {
            err("name", format!("unknown objective \"{name}\" (one of {})", ObjectiveSpec::NAMES.join(", ")))
        })?;
        let prob = match keys.remove("prob") {
            None => 1.0,
            Some(v) => v.as_f64().ok_or_else(|| err("prob", format!("expected a number, got {v}")))?,
        };
        let num = |k: &str, v: &Value| v.as_f64().ok_or_else(|| err(k, format!("expected a number, got {v}")));
        let int = |k: &str, v: &Value| {
            v.as_f64()
                .filter(|x| *x >= 0.0)
                .map(|x| x as usize)
                .ok_or_else(|| err(k, format!("expected a count, got {v}")))
        };
        let mut delim = [None::<usize>; 4]; // min prefix, max prefix, min suffix, max suffix
        let mut shuffle: Option<bool> = None;
        let mut deshuffle_pct: Option<f64> = None;
        for (k, v) in &keys {
            let handled = match (&mut spec, k.as_str()) {
                (ObjectiveSpec::Infilling(p), "corruption_rate") => set(&mut p.corruption_rate, num(k, v)?),
                (ObjectiveSpec::Infilling(p), "mean_tokens_per_span") => set(&mut p.mean_tokens_per_span, num(k, v)?),
                (ObjectiveSpec::Infilling(p), "max_mask_spans") => {
                    set(&mut p.max_mask_spans, cap(int(k, v)?, &here, k, &mut report))
                }
                (ObjectiveSpec::Infilling(p), "max_attempts") => set(&mut p.max_attempts, int(k, v)?),
                (ObjectiveSpec::Autoencoding(p) | ObjectiveSpec::AutoencodingWithDeshuffling(p), key) => match key {
                    "corruption_rate" => set(&mut p.corruption_rate, num(k, v)?),
                    "tokens_per_mask" => set(&mut p.tokens_per_mask, num(k, v)?),
                    "max_mask_spans" => set(&mut p.max_mask_spans, cap(int(k, v)?, &here, k, &mut report)),
                    "max_attempts" => set(&mut p.max_attempts, int(k, v)?),
                    "deshuffling_percentage" => set(&mut deshuffle_pct, Some(num(k, v)?)),
                    "shuffle" => set(&mut shuffle, v.as_bool()),
                    _ => false,
                },
                (ObjectiveSpec::PrefixLanguageModeling(p), "prefix_fraction") => {
                    set(&mut p.prefix_fraction, num(k, v)?)
                }
                (ObjectiveSpec::Deshuffling(p), "percentage_to_shuffle") => {
                    set(&mut p.percentage_to_shuffle, num(k, v)?)
                }
                (ObjectiveSpec::SelectiveCopying(p), key) => match key {
                    "tokens_per_mask" => set(&mut p.tokens_per_mask, num(k, v)?),
                    "max_attempts" => set(&mut p.max_attempts, int(k, v)?),
                    "shuffle" => set(&mut p.shuffle, v.as_bool().ok_or_else(|| err(k, "expected true/false".into()))?),
                    "format_style" => set(
                        &mut p.format_style,
                        if v.as_str() == Some("query_context") {
                            FormatStyle::QueryContext
                        } else {
                            FormatStyle::ContextQuery
                        },
                    ),
                    "min_delimiter_prefix_length" => set(&mut delim[0], Some(int(k, v)?)),
                    "max_delimiter_prefix_length" => set(&mut delim[1], Some(int(k, v)?)),
                    "min_delimiter_suffix_length" => set(&mut delim[2], Some(int(k, v)?)),
                    "max_delimiter_suffix_length" => set(&mut delim[3], Some(int(k, v)?)),
                    "corruption_rate" => {
                        report.notes.push(format!("{here}.{k}: ignored (birdie draws 1–N spans per sample instead)"));
                        true
                    }
                    _ => false,
                },
                _ => false,
            };
            if handled {
                continue;
            }
            if NO_EFFECT.contains(&k.as_str()) {
                report
                    .notes
                    .push(format!("{here}.{k}: no effect in birdie (paradigm tokens and seeds are birdie's own)"));
                continue;
            }
            return Err(err(k, format!("unknown key for {name}")));
        }
        if let ObjectiveSpec::Autoencoding(p) | ObjectiveSpec::AutoencodingWithDeshuffling(p) = &mut spec {
            if let Some(pct) = deshuffle_pct {
                p.deshuffle_fraction = Some(pct);
            }
            if shuffle == Some(false) {
                p.deshuffle_fraction = Some(0.0);
            }
        }
        if let ObjectiveSpec::SelectiveCopying(p) = &mut spec {
            let reference = SelectiveCopyingParams { min_delimiter: 8, max_delimiter: 64, ..Default::default() };
            let lo = [delim[0], delim[2]].into_iter().flatten().min();
            let hi = [delim[1], delim[3]].into_iter().flatten().max();
            p.min_delimiter = lo.unwrap_or(reference.min_delimiter);
            p.max_delimiter = hi.unwrap_or(reference.max_delimiter).max(p.min_delimiter);
        }
        arms.push(Arm::new(None, prob, spec, None, ParadigmPlacement::Prefix).map_err(|e| err("", e.to_string()))?);
    }
    Ok((arms, report))
}

fn set<T>(slot: &mut T, value: T) -> bool {
    *slot = value;
    true
}

fn cap(n: usize, here: &str, key: &str, report: &mut ImportReport) -> usize {
    if n > SENTINEL_COUNT {
        report.notes.push(format!("{here}.{key}: {n} capped at the {SENTINEL_COUNT} sentinel tokens"));
        SENTINEL_COUNT
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_reference_example_entries() {
        let json = r#"[
          {"name": "prefix_language_modeling", "prefix_fraction": 0.75, "paradigm_token": "[S]"},
          {"name": "infilling", "corruption_rate": 0.15, "mean_tokens_per_span": 9, "prob": 0.5},
          {"name": "selective_copying", "tokens_per_mask": 16, "shuffle": true, "min_delimiter_prefix_length": 2,
           "max_delimiter_prefix_length": 16, "min_delimiter_suffix_length": 2, "max_delimiter_suffix_length": 16,
           "format_style": "context_query"},
          {"name": "autoencoding_with_deshuffling", "config_overrides": {"max_mask_spans": 99999}},
          {"name": "deshuffling", "percentage_to_shuffle": 0.25}
        ]"#;
        let (arms, report) = import_birdie_rl(json, "cfg.json").unwrap();
        assert_eq!(arms.len(), 5);
        assert!(matches!(&arms[1].spec, ObjectiveSpec::Infilling(p) if p.mean_tokens_per_span == 9.0));
        assert_eq!(arms[1].prob, 0.5);
        assert!(matches!(&arms[2].spec, ObjectiveSpec::SelectiveCopying(p)
            if p.min_delimiter == 2 && p.max_delimiter == 16 && p.format_style == FormatStyle::ContextQuery && p.tokens_per_mask == 16.0));
        assert!(
            matches!(&arms[3].spec, ObjectiveSpec::AutoencodingWithDeshuffling(p) if p.max_mask_spans == 512 && p.deshuffle_fraction.is_none())
        );
        assert!(report.notes.iter().any(|n| n.contains("[0].paradigm_token")));
        assert!(report.notes.iter().any(|n| n.contains("capped")));
    }

    #[test]
    fn unknown_keys_and_names_are_errors() {
        let err = import_birdie_rl(r#"[{"name": "infilling", "corruption": 0.1}]"#, "c.json").unwrap_err();
        assert!(err.to_string().contains("[0].corruption"), "{err}");
        let err = import_birdie_rl(r#"[{"name": "magic"}]"#, "c.json").unwrap_err();
        assert!(err.to_string().contains("unknown objective \"magic\""), "{err}");
        let err = import_birdie_rl(r#"{"name": "infilling"}"#, "c.json").unwrap_err();
        assert!(err.to_string().contains("JSON array"), "{err}");
    }
}
