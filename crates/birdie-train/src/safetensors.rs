//! Model weights as safetensors (the format Hugging Face tools read): an 8-byte little-endian header length, a JSON
//! header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}` padded to 8 bytes, then the raw
//! little-endian tensors. Names are the module's parameter paths (`blocks.0.rec.w_a.weight`); the metadata records
//! each parameter's burn id so optimiser state matches again after loading.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use serde_json::{json, Value};

struct Collect {
    path: Vec<String>,
    tensors: Vec<(String, Vec<usize>, Vec<f32>, u64)>,
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
        self.tensors.push((self.path.join("."), shape, data, param.id.val()));
    }
}

/// Writes every float parameter of `module` to `path` (`metadata` adds string entries to `__metadata__`).
pub fn write<M: Module>(module: &M, path: &Path, metadata: &BTreeMap<String, String>) -> std::io::Result<()> {
    let mut c = Collect { path: Vec::new(), tensors: Vec::new() };
    module.visit(&mut c);
    let mut header = serde_json::Map::new();
    let mut ids = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape, data, id) in &c.tensors {
        let bytes = data.len() * 4;
        header.insert(name.clone(), json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}));
        ids.insert(name.clone(), json!(id.to_string()));
        offset += bytes;
    }
    let mut meta: serde_json::Map<String, Value> =
        metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    meta.insert("birdie_param_ids".into(), Value::String(Value::Object(ids).to_string()));
    header.insert("__metadata__".into(), Value::Object(meta));
    let mut head = Value::Object(header).to_string().into_bytes();
    while head.len() % 8 != 0 {
        head.push(b' ');
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(&(head.len() as u64).to_le_bytes())?;
    f.write_all(&head)?;
    for (_, _, data, _) in &c.tensors {
        for v in data {
            f.write_all(&v.to_le_bytes())?;
        }
    }
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// A parsed safetensors file: tensors by name and the metadata.
#[derive(Debug)]
pub struct SafeTensors {
    pub tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: BTreeMap<String, String>,
}

/// Reads an F32 safetensors file.
pub fn read(path: &Path) -> Result<SafeTensors, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let bad = |what: &str| format!("{}: not a safetensors file ({what})", path.display());
    let n = u64::from_le_bytes(bytes.get(..8).ok_or_else(|| bad("shorter than 8 bytes"))?.try_into().expect("8"));
    let end = 8usize.checked_add(n as usize).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("header past the end"))?;
    let header: Value = serde_json::from_slice(&bytes[8..end]).map_err(|e| bad(&format!("header: {e}")))?;
    let obj = header.as_object().ok_or_else(|| bad("header is not an object"))?;
    let data = &bytes[end..];
    let mut out = SafeTensors { tensors: BTreeMap::new(), metadata: BTreeMap::new() };
    for (name, v) in obj {
        if name == "__metadata__" {
            for (k, m) in v.as_object().into_iter().flatten() {
                out.metadata.insert(k.clone(), m.as_str().unwrap_or_default().to_string());
            }
            continue;
        }
        if v["dtype"] != "F32" {
            return Err(format!("{}: tensor {name} has dtype {}, expected F32", path.display(), v["dtype"]));
        }
        let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).map_err(|_| bad("shape"))?;
        let off: [usize; 2] = serde_json::from_value(v["data_offsets"].clone()).map_err(|_| bad("data_offsets"))?;
        let raw = data.get(off[0]..off[1]).ok_or_else(|| bad(&format!("{name} outside the data")))?;
        if raw.len() != shape.iter().product::<usize>() * 4 {
            return Err(bad(&format!("{name}: {} bytes for shape {shape:?}", raw.len())));
        }
        let vals = raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect();
        out.tensors.insert(name.clone(), (shape, vals));
    }
    Ok(out)
}

struct Load {
    path: Vec<String>,
    file: SafeTensors,
    ids: BTreeMap<String, u64>,
    errors: Vec<String>,
}

impl ModuleMapper for Load {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let Some((shape, vals)) = self.file.tensors.remove(&name) else {
            self.errors.push(format!("missing tensor {name}"));
            return param;
        };
        let want = param.val().dims().to_vec();
        if shape != want {
            self.errors.push(format!("{name}: shape {shape:?} in the file, {want:?} in the model"));
            return param;
        }
        let id = self.ids.get(&name).map_or(param.id, |&v| ParamId::from(v));
        let device = param.val().device();
        let t = Tensor::<D>::from_data(TensorData::new(vals, shape), &device);
        param.transform_for_load(t, id)
    }
}

/// Loads the weights at `path` into `module` (same architecture), restoring parameter ids when the file has them.
pub fn load_into<M: Module>(module: M, path: &Path) -> Result<M, String> {
    let file = read(path)?;
    let ids: BTreeMap<String, u64> = file
        .metadata
        .get("birdie_param_ids")
        .and_then(|s| serde_json::from_str::<BTreeMap<String, String>>(s).ok())
        .map(|m| m.into_iter().filter_map(|(k, v)| v.parse().ok().map(|v| (k, v))).collect())
        .unwrap_or_default();
    let mut l = Load { path: Vec::new(), file, ids, errors: Vec::new() };
    let module = module.map(&mut l);
    if !l.errors.is_empty() {
        return Err(format!("{}: {}", path.display(), l.errors.join("; ")));
    }
    if let Some(extra) = l.file.tensors.keys().next() {
        return Err(format!("{}: tensor {extra} does not belong to this model", path.display()));
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
        let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["embed"]["weight"], Value::Null, "names are flat dotted paths");
        assert_eq!(header["embed.weight"]["dtype"], "F32");
        assert_eq!(header["embed.weight"]["shape"], json!([20, 8]));
        assert_eq!(header["embed.weight"]["data_offsets"][0], 0);
        assert_eq!(header["__metadata__"]["format"], "pt");
        let b = load_into(HawkConfig::new(20, 8, 6, 1).init(&device), &path).unwrap();
        let t = vec![1, 2, 3, 4];
        let batch = birdie_models::SequenceBatch::new(&t, &[1, 2, 3, 4], &[1; 4], &[3; 4], 1, 4, 4, &device);
        assert_eq!(
            a.forward(&batch).into_data().try_to_vec::<f32>().unwrap(),
            b.forward(&batch).into_data().try_to_vec::<f32>().unwrap()
        );
        let wrong = load_into(HawkConfig::new(20, 10, 6, 1).init(&device), &path).unwrap_err();
        assert!(wrong.contains("shape"), "{wrong}");
        std::fs::write(&path, b"xx").unwrap();
        assert!(read(&path).unwrap_err().contains("not a safetensors file"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
