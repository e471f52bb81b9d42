//! Property tests of every objective over random token sequences × budgets × parameters (design §1 invariants).

use birdie_core::objectives::{
    AutoencodingParams, DeshufflingParams, FormatStyle, InfillingParams, Masker, PrefixLmParams, SelectiveCopyingParams,
};
use birdie_core::{Arm, ObjectiveSpec, ParadigmPlacement, SampleError, SampleRng};
use birdie_data::special_tokens::all_special_tokens;
use birdie_data::{Marker, SpecialTokens};
use proptest::prelude::*;

fn specials() -> SpecialTokens {
    let all = all_special_tokens();
    SpecialTokens::from_ids(|t| all.iter().position(|s| s == t).map(|i| i as u32)).unwrap()
}

/// Random text ids drawn from a small ordinary vocabulary (repeats happen, as in real text).
fn tokens() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(530u32..700, 0..3000)
}

fn arm(spec: ObjectiveSpec, placement: ParadigmPlacement) -> Arm {
    Arm::new(None, 1.0, spec, None, placement).unwrap()
}

fn placement() -> impl Strategy<Value = ParadigmPlacement> {
    prop_oneof![Just(ParadigmPlacement::Prefix), Just(ParadigmPlacement::Suffix), Just(ParadigmPlacement::Random)]
}

/// Strips the paradigm token (first or last input token).
fn body(input: &[u32], st: &SpecialTokens, spec: &ObjectiveSpec) -> Vec<u32> {
    let p = st.paradigm(spec.paradigm());
    if input.first() == Some(&p) {
        input[1..].to_vec()
    } else {
        assert_eq!(input.last(), Some(&p), "paradigm token missing");
        input[..input.len() - 1].to_vec()
    }
}

/// Common checks; returns the sample body (input without paradigm) when a sample was made.
fn check(
    spec: ObjectiveSpec,
    pl: ParadigmPlacement,
    toks: &[u32],
    budget: usize,
    seed: u64,
) -> Option<(Vec<u32>, birdie_core::Sample)> {
    let st = specials();
    let a = arm(spec.clone(), pl);
    match a.apply(toks, budget, &st, &mut SampleRng::from_seed_u64(seed)) {
        Ok(s) => {
            assert!(s.input.len() + s.label.len() <= budget, "over budget");
            assert!(!s.label.is_empty(), "empty label");
            assert!(s.consumed >= 1 && s.consumed <= toks.len());
            Some((body(&s.input, &st, &spec), s))
        }
        Err(SampleError::TooShort { got, .. }) => {
            assert!(got <= toks.len());
            None
        }
        Err(SampleError::NoSpace { budget: b, needed }) => {
            assert!(needed > b);
            None
        }
        Err(SampleError::NothingMasked { .. }) => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn next_token_label_is_the_text(toks in tokens(), budget in 0usize..3000, seed: u64, pl in placement()) {
        if let Some((body, s)) = check(ObjectiveSpec::default_for("next_token_prediction").unwrap(), pl, &toks, budget, seed) {
            prop_assert!(body.is_empty());
            prop_assert_eq!(&s.label[..], &toks[..s.consumed]);
        }
    }

    #[test]
    fn prefix_lm_splits_the_text(toks in tokens(), budget in 0usize..3000, seed: u64, f in 0.0f64..=1.0, pl in placement()) {
        let spec = ObjectiveSpec::PrefixLanguageModeling(PrefixLmParams { prefix_fraction: f });
        if let Some((body, s)) = check(spec, pl, &toks, budget, seed) {
            prop_assert!(!body.is_empty());
            prop_assert_eq!([body, s.label.clone()].concat(), toks[..s.consumed].to_vec());
        }
    }

    #[test]
    fn copying_input_equals_label(toks in tokens(), budget in 0usize..3000, seed: u64, pl in placement()) {
        if let Some((body, s)) = check(ObjectiveSpec::default_for("copying").unwrap(), pl, &toks, budget, seed) {
            prop_assert_eq!(&body, &s.label);
            prop_assert_eq!(&s.label[..], &toks[..s.consumed]);
        }
    }

    #[test]
    fn deshuffling_input_is_a_permutation(toks in tokens(), budget in 0usize..3000, seed: u64, pct in 0.0f64..=1.0, pl in placement()) {
        let spec = ObjectiveSpec::Deshuffling(DeshufflingParams { percentage_to_shuffle: pct });
        if let Some((mut body, s)) = check(spec, pl, &toks, budget, seed) {
            prop_assert_eq!(&s.label[..], &toks[..s.consumed]);
            let mut label = s.label.clone();
            body.sort_unstable();
            label.sort_unstable();
            prop_assert_eq!(body, label);
        }
    }

    #[test]
    fn infilling_sentinels_pair_up_and_reconstruct(
        toks in tokens(), budget in 0usize..3000, seed: u64,
        rate in 0.01f64..0.95, mean in 1.0f64..64.0, spans in 1usize..=512, t5: bool, pl in placement(),
    ) {
        let st = specials();
        let spec = ObjectiveSpec::Infilling(InfillingParams {
            corruption_rate: rate, mean_tokens_per_span: mean, max_mask_spans: spans,
            masker: if t5 { Masker::T5 } else { Masker::Stochastic }, max_attempts: 10,
        });
        if let Some((body, s)) = check(spec, pl, &toks, budget, seed) {
            let sent = st.sentinels();
            let in_s: Vec<u32> = body.iter().copied().filter(|t| sent.contains(t)).collect();
            let lab_s: Vec<u32> = s.label.iter().copied().filter(|t| sent.contains(t)).collect();
            prop_assert!(!in_s.is_empty() && in_s.len() <= spans);
            prop_assert_eq!(&in_s, &lab_s);
            prop_assert_eq!(&in_s[..], &sent[..in_s.len()]);
            prop_assert!(sent.contains(&s.label[0]));
            // Putting each span back where its sentinel is gives the consumed text.
            let mut blocks: Vec<Vec<u32>> = Vec::new();
            for &t in &s.label {
                if sent.contains(&t) { blocks.push(Vec::new()) } else { blocks.last_mut().unwrap().push(t) }
            }
            let mut rebuilt = Vec::new();
            for &t in &body {
                match sent.iter().position(|&x| x == t) { Some(j) => rebuilt.extend(&blocks[j]), None => rebuilt.push(t) }
            }
            prop_assert_eq!(rebuilt, toks[..s.consumed].to_vec());
        }
    }

    #[test]
    fn autoencoding_label_is_the_text(
        toks in tokens(), budget in 0usize..3000, seed: u64,
        rate in 0.01f64..0.95, mean in 1.0f64..32.0, shuffle in 0.0f64..=1.0, pl in placement(),
    ) {
        let st = specials();
        let params = AutoencodingParams { corruption_rate: rate, tokens_per_mask: mean, deshuffle_fraction: Some(shuffle), max_attempts: 10, ..Default::default() };
        let spec = if shuffle > 0.0 { ObjectiveSpec::AutoencodingWithDeshuffling(params) } else { ObjectiveSpec::Autoencoding(params) };
        if let Some((body, s)) = check(spec, pl, &toks, budget, seed) {
            prop_assert_eq!(&s.label[..], &toks[..s.consumed]);
            let sent = st.sentinels();
            let n_sent = body.iter().filter(|t| sent.contains(t)).count();
            prop_assert!(n_sent >= 1);
            // Kept tokens are a sub-multiset of the text.
            let mut kept: Vec<u32> = body.iter().copied().filter(|t| !sent.contains(t)).collect();
            let mut text = s.label.clone();
            kept.sort_unstable();
            text.sort_unstable();
            let mut i = 0;
            for t in &kept { while i < text.len() && text[i] < *t { i += 1; } prop_assert!(i < text.len() && text[i] == *t); i += 1; }
        }
    }

    #[test]
    fn selective_copying_targets_occur_in_context(
        toks in tokens(), budget in 0usize..3000, seed: u64,
        tpm in 1.0f64..32.0, max_spans in 1usize..6, dmin in 1usize..4, dextra in 0usize..8, ctx_first: bool, pl in placement(),
    ) {
        let st = specials();
        let spec = ObjectiveSpec::SelectiveCopying(SelectiveCopyingParams {
            tokens_per_mask: tpm, min_spans: 1, max_spans, min_delimiter: dmin, max_delimiter: dmin + dextra,
            format_style: if ctx_first { FormatStyle::ContextQuery } else { FormatStyle::QueryContext },
            shuffle: true, max_attempts: 10,
        });
        if let Some((body, s)) = check(spec, pl, &toks, budget, seed) {
            let open = body.iter().position(|&t| t == st.marker(Marker::Context)).unwrap();
            let close = body.iter().position(|&t| t == st.marker(Marker::ContextEnd)).unwrap();
            let context = &body[open + 1..close];
            prop_assert_eq!(context, &toks[..s.consumed]);
            let instr: Vec<u32> = [&body[..open], &body[close + 1..]].concat();
            let blocks: Vec<&[u32]> = instr.split(|&t| t == st.marker(Marker::Find)).filter(|b| !b.is_empty()).collect();
            let results: Vec<&[u32]> = s.label.split(|&t| t == st.marker(Marker::Result)).filter(|b| !b.is_empty()).collect();
            prop_assert_eq!(blocks.len(), results.len());
            prop_assert!(!blocks.is_empty() && blocks.len() <= max_spans);
            prop_assert_eq!(*s.label.last().unwrap(), st.marker(Marker::Done));
            for (q, block) in blocks.iter().enumerate() {
                prop_assert_eq!(block[0], st.sentinels()[q]);
                let inner = &block[1..block.len() - 1];
                let sep = inner.iter().position(|&t| t == st.marker(Marker::Separator)).unwrap();
                let res = results[q];
                prop_assert_eq!(res[0], st.sentinels()[q]);
                let span: Vec<u32> = res[1..].iter().copied().filter(|&t| t != st.marker(Marker::Done)).collect();
                let needle = [&inner[..sep], &span[..], &inner[sep + 1..]].concat();
                prop_assert!(context.windows(needle.len()).any(|w| w == needle.as_slice()), "target {} not in context", q);
            }
        }
    }
}
