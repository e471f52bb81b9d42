//! Zoology's sanity check: attention solves MQAR at d_model 64, sequence 64, 4 key-value pairs. Takes a few CPU
//! minutes, so it is ignored in the default run:
//!
//! ```sh
//! cargo test --release -p birdie-eval --test mqar_train -- --ignored
//! # the same from the CLI:
//! birdie eval mqar --train --arch transformer --d-model 64 --layers 2 --seq-len 64 --kv-pairs 4 --steps 2000 --lr 3e-3
//! ```

use birdie_eval::finetune::FinetuneOptions;
use birdie_eval::mqar::{run_train, MqarOptions, MqarTrain};
use birdie_models::ModelSpec;
use burn::prelude::Device;

#[test]
#[ignore = "trains a model for minutes; run with --ignored"]
fn a_small_transformer_learns_mqar() {
    let model = ModelSpec {
        d_model: Some(64),
        num_layers: Some(2),
        num_heads: Some(2),
        ..ModelSpec::preset("transformer", "tiny", false)
    };
    let fit = FinetuneOptions { steps: 2000, batch_size: 32, lr: 3e-3, seed: 0 };
    let o = MqarOptions {
        settings: vec![(64, 4)],
        n: 100,
        seed: 0,
        train: Some(MqarTrain { model, vocab_size: 256, fit, device: Device::flex() }),
    };
    let (report, losses) = run_train(&o, &mut |_, _| {}).unwrap();
    let acc = report.results.iter().find(|m| m.setting == "all").unwrap().value;
    assert!(acc >= 0.9, "accuracy {acc}, losses {:?} … {:?}", &losses[..3], &losses[losses.len() - 3..]);
}
