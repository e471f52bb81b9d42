//! Model weights as safetensors (the format Hugging Face tools read), through the `safetensors` crate: an 8-byte
//! little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`, then the
//! raw little-endian tensors. Names are the module's parameter paths (`blocks.0.rec.w_a.weight`); the metadata records
//! each parameter's burn id so optimiser state matches again after loading. Loading memory-maps the file (the crate
//! validates the header and every offset) and copies each tensor once, from the mapped bytes into its parameter.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use safetensors::{Dtype, SafeTensorError, SafeTensors};

/// Why weights could not be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SafetensorsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a safetensors file: {source}")]
    Format { path: PathBuf, source: SafeTensorError },
    #[error("{path}: tensor {name} has dtype {dtype:?}, expected F32")]
    Dtype { path: PathBuf, name: String, dtype: Dtype },
    #[error("{path}: does not fit the model: {}", problems.join("; "))]
    Mismatch { path: PathBuf, problems: Vec<String> },
}

struct Collect {
    path: Vec<String>,
    tensors: Vec<(String, Vec<usize>, Vec<u8>, u64)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let data = t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 parameter");
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.push((self.path.join("."), shape, bytes, param.id.val()));
    }
}

/// Writes every float parameter of `module` to `path` (`metadata` adds string entries to `__metadata__`) and syncs
/// the file to disk.
pub fn write<M: Module>(module: &M, path: &Path, metadata: &BTreeMap<String, String>) -> Result<(), SafetensorsError> {
    let io = |source| SafetensorsError::Io { path: path.into(), source };
    let mut c = Collect { path: Vec::new(), tensors: Vec::new() };
    module.visit(&mut c);
    let ids: BTreeMap<&str, String> = c.tensors.iter().map(|(n, _, _, id)| (n.as_str(), id.to_string())).collect();
    let mut meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    meta.insert("birdie_param_ids".into(), serde_json::to_string(&ids).expect("ids serialise"));
    let mut views = Vec::with_capacity(c.tensors.len());
    for (name, shape, bytes, _) in &c.tensors {
        let view = safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|source| SafetensorsError::Format { path: path.into(), source })?;
        views.push((name.as_str(), view));
    }
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|source| SafetensorsError::Format { path: path.into(), source })?;
    let mut f = std::fs::File::create(path).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// A safetensors file mapped into memory.
struct Mapped {
    path: PathBuf,
    map: memmap2::Mmap,
}

impl Mapped {
    fn open(path: &Path) -> Result<Self, SafetensorsError> {
        let io = |source| SafetensorsError::Io { path: path.into(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and lives only while loading; a checkpoint is written to a temporary directory
        // and renamed into place, so no writer changes a file that is being loaded.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Ok(Mapped { path: path.into(), map })
    }

    fn parse(&self) -> Result<(SafeTensors<'_>, HashMap<String, String>), SafetensorsError> {
        let format = |source| SafetensorsError::Format { path: self.path.clone(), source };
        let (_, header) = SafeTensors::read_metadata(&self.map).map_err(format)?;
        let tensors = SafeTensors::deserialize(&self.map).map_err(format)?;
        Ok((tensors, header.metadata().clone().unwrap_or_default()))
    }
}

struct Load<'a> {
    path: Vec<String>,
    file: &'a SafeTensors<'a>,
    seen: Vec<String>,
    ids: BTreeMap<String, u64>,
    problems: Vec<String>,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let Ok(view) = self.file.tensor(&name) else {
            self.problems.push(format!("missing tensor {name}"));
            return param;
        };
        self.seen.push(name.clone());
        let want = param.val().dims().to_vec();
        if view.dtype() != Dtype::F32 {
            self.problems.push(format!("{name}: dtype {:?}, expected F32", view.dtype()));
            return param;
        }
        if view.shape() != want.as_slice() {
            self.problems.push(format!("{name}: shape {:?} in the file, {want:?} in the model", view.shape()));
            return param;
        }
        let vals: Vec<f32> =
            view.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        let id = self.ids.get(&name).map_or(param.id, |&v| ParamId::from(v));
        let device = param.val().device();
        let t = Tensor::<D>::from_data(TensorData::new(vals, want), &device);
        param.transform_for_load(t, id)
    }
}

/// Loads the weights at `path` into `module` (same architecture), restoring parameter ids when the file has them.
pub fn load_into<M: Module>(module: M, path: &Path) -> Result<M, SafetensorsError> {
    let mapped = Mapped::open(path)?;
    let (file, metadata) = mapped.parse()?;
    let ids: BTreeMap<String, u64> = metadata
        .get("birdie_param_ids")
        .and_then(|s| serde_json::from_str::<BTreeMap<String, String>>(s).ok())
        .map(|m| m.into_iter().filter_map(|(k, v)| v.parse().ok().map(|v| (k, v))).collect())
        .unwrap_or_default();
    let mut l = Load { path: Vec::new(), file: &file, seen: Vec::new(), ids, problems: Vec::new() };
    let module = module.map(&mut l);
    let mut problems = l.problems;
    let extra: Vec<String> =
        file.names().into_iter().filter(|n| !l.seen.iter().any(|s| s == n)).map(String::from).collect();
    problems.extend(extra.iter().map(|n| format!("tensor {n} does not belong to this model")));
    if !problems.is_empty() {
        return Err(SafetensorsError::Mismatch { path: path.into(), problems });
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use birdie_models::HawkConfig;

    use super::*;

    #[test]
    fn round_trip_and_golden_header() {
        let device = Device::flex();
        let a = HawkConfig::new(20, 8, 6, 1).init(&device);
        let dir = std::env::temp_dir().join(format!("birdie-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        write(&a, &path, &BTreeMap::from([("format".to_string(), "pt".to_string())])).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["embed"]["weight"], serde_json::Value::Null, "names are flat dotted paths");
        assert_eq!(header["embed.weight"]["dtype"], "F32");
        assert_eq!(header["embed.weight"]["shape"], serde_json::json!([20, 8]));
        let offsets = &header["embed.weight"]["data_offsets"];
        assert_eq!(offsets[1].as_u64().unwrap() - offsets[0].as_u64().unwrap(), 20 * 8 * 4);
        assert_eq!(header["__metadata__"]["format"], "pt");
        let b = load_into(HawkConfig::new(20, 8, 6, 1).init(&device), &path).unwrap();
        let t = vec![1, 2, 3, 4];
        let batch = birdie_models::SequenceBatch::new(&t, &[1, 2, 3, 4], &[1; 4], &[3; 4], 1, 4, 4, &device);
        assert_eq!(
            a.forward(&batch).into_data().try_to_vec::<f32>().unwrap(),
            b.forward(&batch).into_data().try_to_vec::<f32>().unwrap()
        );
        let wrong = load_into(HawkConfig::new(20, 10, 6, 1).init(&device), &path).unwrap_err().to_string();
        assert!(wrong.contains("shape"), "{wrong}");
        std::fs::write(&path, b"xx").unwrap();
        let bad = load_into(HawkConfig::new(20, 8, 6, 1).init(&device), &path).unwrap_err().to_string();
        assert!(bad.contains("not a safetensors file"), "{bad}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
