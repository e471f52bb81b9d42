//! The device of the CubeCL kernels' parity tests: `BIRDIE_TEST_DEVICE` (`wgpu`, the default where built, or
//! `cuda[:N]`). The wgpu adapter may be Mesa's software Vulkan driver on a machine without a GPU. Each test prints the
//! device it ran on, or why it was skipped; with `BIRDIE_REQUIRE_GPU=1` (set by CI, which installs the driver) a
//! missing adapter fails the test instead.

use burn::prelude::Device;

use crate::device::DeviceChoice;

/// The device to test the CubeCL kernels on, or `None` (after printing why) where there is none.
pub(crate) fn device(op: &str) -> Option<Device> {
    let default = if cfg!(feature = "wgpu") { "wgpu" } else { "cuda" };
    let name = std::env::var("BIRDIE_TEST_DEVICE").unwrap_or_else(|_| default.into());
    let found: Result<(Device, String), String> = match name.parse::<DeviceChoice>() {
        Ok(DeviceChoice::Cpu) => Err("BIRDIE_TEST_DEVICE=cpu".into()),
        Ok(DeviceChoice::Wgpu) => wgpu(),
        Ok(cuda) => cuda.device().map(|d| (d, cuda.to_string())).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match found {
        Ok((device, name)) => {
            eprintln!("{op}: CubeCL kernels on {name}");
            Some(device)
        }
        Err(reason) if std::env::var("BIRDIE_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
            panic!("{op}: BIRDIE_REQUIRE_GPU=1 but {reason}")
        }
        Err(reason) => {
            eprintln!("{op}: skipped the GPU parity test: {reason} (mesa-vulkan-drivers gives a software adapter)");
            None
        }
    }
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Result<(Device, String), String> {
    crate::device::wgpu_adapter().map(|(d, adapter)| (d, format!("wgpu adapter {adapter}")))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<(Device, String), String> {
    Err("built without the wgpu feature".into())
}
