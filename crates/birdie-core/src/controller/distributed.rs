//! The distributed contract (B18): every rank measures validation losses on its share of the validation rows; the
//! sums are reduced, rank 0 alone runs the controller update, and every rank adopts rank 0's mixture.

use std::sync::{Arc, Barrier, Mutex};

use super::{Controller, UpdateReport};

/// The two collectives the contract needs (implemented over the training framework's process group; an in-process
/// [`LocalCollective`] serves tests and single-machine use).
pub trait Collective {
    fn rank(&self) -> usize;
    fn world_size(&self) -> usize;
    /// Every rank's vector, in rank order, on every rank.
    fn all_gather(&self, local: Vec<f64>) -> Vec<Vec<f64>>;
    /// Rank 0's vector on every rank (other ranks' arguments are ignored).
    fn broadcast(&self, value: Vec<f64>) -> Vec<f64>;
}

/// Mean loss per arm over all ranks' rows, from each rank's per-arm (sum of row losses, number of rows).
/// An arm without rows anywhere, or whose sum is not finite on some rank, is missing (`None`).
pub fn reduce_losses(per_rank: &[Vec<(f64, f64)>]) -> Vec<Option<f64>> {
    let k = per_rank.first().map_or(0, Vec::len);
    (0..k)
        .map(|arm| {
            let (sum, n) = per_rank.iter().fold((0.0, 0.0), |(s, n), r| (s + r[arm].0, n + r[arm].1));
            let mean = sum / n;
            (n > 0.0 && mean.is_finite()).then_some(mean)
        })
        .collect()
}

/// One evaluation across ranks. `local`: this rank's per-arm (sum of losses, rows); `trained_on`: the mixture the
/// interval trained on (the same on every rank: every rank's pipeline has the same schedule). Returns the mixture
/// every rank uses from now on, and rank 0's update report.
///
/// # Errors
/// Rank 0's controller error (a malformed `trained_on`); every rank then keeps its mixture.
pub fn distributed_evaluation(
    controller: &mut Controller,
    step: u64,
    local: &[(f64, f64)],
    trained_on: Option<Vec<f64>>,
    comm: &dyn Collective,
) -> (Vec<f64>, Option<Result<UpdateReport, super::ControllerError>>) {
    let flat: Vec<f64> = local.iter().flat_map(|&(s, n)| [s, n]).collect();
    let gathered: Vec<Vec<(f64, f64)>> =
        comm.all_gather(flat).into_iter().map(|v| v.chunks(2).map(|c| (c[0], c[1])).collect()).collect();
    let losses = reduce_losses(&gathered);
    let report = (comm.rank() == 0).then(|| controller.update(step, losses, trained_on));
    let mine = match &report {
        Some(Ok(r)) => r.mixture.clone(),
        _ => controller.mixture().to_vec(),
    };
    let mixture = comm.broadcast(mine);
    if comm.rank() != 0 {
        controller.state.mixture = mixture.clone();
    }
    (mixture, report)
}

/// Ranks as threads of one process.
#[derive(Debug, Clone)]
pub struct LocalCollective {
    rank: usize,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    slots: Mutex<Vec<Vec<f64>>>,
    barrier: Barrier,
}

impl LocalCollective {
    /// One handle per rank of a `world`-rank group.
    pub fn group(world: usize) -> Vec<LocalCollective> {
        let shared = Arc::new(Shared { slots: Mutex::new(vec![Vec::new(); world]), barrier: Barrier::new(world) });
        (0..world).map(|rank| LocalCollective { rank, shared: shared.clone() }).collect()
    }
}

impl Collective for LocalCollective {
    fn rank(&self) -> usize {
        self.rank
    }
    fn world_size(&self) -> usize {
        self.shared.slots.lock().expect("collective lock").len()
    }
    fn all_gather(&self, local: Vec<f64>) -> Vec<Vec<f64>> {
        self.shared.slots.lock().expect("collective lock")[self.rank] = local;
        self.shared.barrier.wait();
        let all = self.shared.slots.lock().expect("collective lock").clone();
        self.shared.barrier.wait();
        all
    }
    fn broadcast(&self, value: Vec<f64>) -> Vec<f64> {
        if self.rank == 0 {
            self.shared.slots.lock().expect("collective lock")[0] = value;
        }
        self.shared.barrier.wait();
        let v = self.shared.slots.lock().expect("collective lock")[0].clone();
        self.shared.barrier.wait();
        v
    }
}
