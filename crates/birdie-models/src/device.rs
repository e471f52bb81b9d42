//! Which device a run computes on: `cpu` (burn's Flex backend, always built), `cuda[:N]` (feature `cuda`) or `wgpu`
//! (feature `wgpu`: Vulkan, Metal or DX12 through WGSL shaders, including Mesa's software Vulkan driver).
//!
//! The models need no type changes for a GPU: burn 0.22 chooses the backend from the device at run time, and every
//! fused op has kernels for the Flex and the CubeCL backends (docs/gpu.md).

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// A device name as written on the command line or in a config (`[run] device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceChoice {
    /// The CPU (burn's Flex backend).
    #[default]
    Cpu,
    /// An NVIDIA GPU by index (`cuda` is `cuda:0`).
    Cuda(usize),
    /// The default wgpu adapter.
    Wgpu,
}

/// What went wrong choosing or starting a device.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// The name is not a device.
    #[error("unknown device {0:?}: expected cpu, cuda, cuda:N or wgpu")]
    Unknown(String),
    /// The device's backend was not compiled into this binary.
    #[error(
        "device {device} needs birdie built with the `{feature}` feature: cargo build --release --features {feature}"
    )]
    NotBuilt { device: DeviceChoice, feature: &'static str },
    /// The backend is built but found no adapter.
    #[error("device {device} could not start: {reason}")]
    Unavailable { device: DeviceChoice, reason: String },
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(i) => write!(f, "cuda:{i}"),
            DeviceChoice::Wgpu => f.write_str("wgpu"),
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        match name.as_str() {
            "cpu" => Ok(DeviceChoice::Cpu),
            "wgpu" => Ok(DeviceChoice::Wgpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => match name.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => Ok(DeviceChoice::Cuda(i)),
                _ => Err(DeviceError::Unknown(s.to_string())),
            },
        }
    }
}

impl TryFrom<String> for DeviceChoice {
    type Error = DeviceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DeviceChoice> for String {
    fn from(d: DeviceChoice) -> String {
        d.to_string()
    }
}

impl DeviceChoice {
    /// The burn device (without autodiff), or why this binary cannot use it.
    pub fn device(self) -> Result<Device, DeviceError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            DeviceChoice::Cuda(i) => cuda(i),
            DeviceChoice::Wgpu => wgpu(),
        }
    }

    /// Whether this is the CPU.
    pub fn is_cpu(self) -> bool {
        self == DeviceChoice::Cpu
    }
}

/// The CUDA device, after one tiny read that proves the driver loads and the GPU answers (the CUDA runtime
/// otherwise panics at the first operation when `libcuda.so` is missing).
#[cfg(feature = "cuda")]
fn cuda(index: usize) -> Result<Device, DeviceError> {
    use burn::prelude::Tensor;
    let device = Device::cuda(index);
    let probe = std::panic::catch_unwind(|| Tensor::<1>::zeros([1], &device).try_into_data().map(|_| ()));
    let reason = match probe {
        Ok(Ok(())) => return Ok(device),
        Ok(Err(e)) => format!("{e:?}"),
        Err(_) => "the NVIDIA driver (libcuda.so) could not be loaded or found no GPU".to_string(),
    };
    Err(DeviceError::Unavailable { device: DeviceChoice::Cuda(index), reason })
}

#[cfg(not(feature = "cuda"))]
fn cuda(index: usize) -> Result<Device, DeviceError> {
    Err(DeviceError::NotBuilt { device: DeviceChoice::Cuda(index), feature: "cuda" })
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Result<Device, DeviceError> {
    use std::sync::OnceLock;
    // The runtime can be initialised once per process; later calls reuse its device.
    static DEVICE: OnceLock<Result<Device, String>> = OnceLock::new();
    DEVICE
        .get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|reason| DeviceError::Unavailable { device: DeviceChoice::Wgpu, reason })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<Device, DeviceError> {
    Err(DeviceError::NotBuilt { device: DeviceChoice::Wgpu, feature: "wgpu" })
}

/// The name of the adapter the `wgpu` device runs on (for example "llvmpipe (LLVM 15.0.6, 256 bits)" on Mesa's
/// software driver), or why there is none. Kernel parity tests print it, and skip with the reason where there is none.
#[cfg(feature = "wgpu")]
pub fn wgpu_adapter() -> Result<(Device, String), String> {
    use burn::tensor::wgpu::wgpu;
    let instance = wgpu::Instance::default();
    let adapter = pollster_block(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .map_err(|e| format!("no wgpu adapter: {e}"))?;
    let info = adapter.get_info();
    let device = DeviceChoice::Wgpu.device().map_err(|e| e.to_string())?;
    Ok((device, format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)))
}

/// Runs a future that completes without waiting on anything else (wgpu's adapter request on native platforms).
#[cfg(feature = "wgpu")]
fn pollster_block<F: std::future::Future>(fut: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for (name, want) in [
            ("cpu", DeviceChoice::Cpu),
            ("CPU", DeviceChoice::Cpu),
            ("wgpu", DeviceChoice::Wgpu),
            ("cuda", DeviceChoice::Cuda(0)),
            ("cuda:3", DeviceChoice::Cuda(3)),
        ] {
            assert_eq!(name.parse::<DeviceChoice>().unwrap(), want);
        }
        assert_eq!(DeviceChoice::Cuda(3).to_string(), "cuda:3");
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            let err = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(err.to_string().contains("expected cpu, cuda, cuda:N or wgpu"), "{err}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn an_unbuilt_backend_says_which_feature_builds_it() {
        let err = DeviceChoice::Cuda(1).device().unwrap_err();
        assert_eq!(
            err.to_string(),
            "device cuda:1 needs birdie built with the `cuda` feature: cargo build --release --features cuda"
        );
    }
}
