"""state_dict / load_state_dict continue exactly, controller included."""

import pickle

import birdie
from conftest import small_config


def _run(b, n):
    out = []
    for step in range(n):
        if b.time_for_eval(step):
            for name, batch in b.measure_validation_losses():
                # A deterministic stand-in for a model's loss: depends on the batch and the step.
                b.log_validation_loss(name, 5.0 - 0.01 * step + (int(batch["input_ids"].sum()) % 97) / 1000, step)
        out.append(b.get_next_training_sample()["input_ids"].copy())
    return out


def test_load_state_dict_after_n_batches_continues_with_batch_n_plus_1(texts):
    cfg = small_config(texts)
    with birdie.Birdie(cfg) as full:
        reference = _run(full, 14)
        mixture = full.get_current_action()
    with birdie.Birdie(cfg) as first:
        head = _run(first, 9)
        state = pickle.loads(pickle.dumps(first.state_dict()))
    with birdie.Birdie(cfg) as second:
        second.load_state_dict(state)
        tail = []
        for step in range(9, 14):
            if second.time_for_eval(step):
                for name, batch in second.measure_validation_losses():
                    second.log_validation_loss(
                        name, 5.0 - 0.01 * step + (int(batch["input_ids"].sum()) % 97) / 1000, step
                    )
            tail.append(second.get_next_training_sample()["input_ids"].copy())
        assert all((a == b).all() for a, b in zip(reference, head + tail))
        assert (second.get_current_action() == mixture).all()


def test_the_controller_changes_the_mixture_and_it_sums_to_one(texts):
    with birdie.Birdie(small_config(texts)) as b:
        start = b.get_current_action().copy()
        _run(b, 21)
        after = b.get_current_action()
        assert abs(after.sum() - 1) < 1e-9
        assert (after != start).any(), "five evaluations with differing losses moved the mixture"
        assert set(b.mixture) == set(b.objective_names)
