//! Embeds every file of `knowledge/` into the binary as the default catalogue.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("knowledge/ is readable").flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("toml" | "txt")) {
            let name = path.strip_prefix(root).expect("below root").to_string_lossy().replace('\\', "/");
            out.push((name, path));
        }
    }
}

#[expect(clippy::disallowed_methods, reason = "a build script reads what cargo sets in its environment")]
fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("knowledge");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut code = String::from(
        "/// Every catalogue file as `(name relative to knowledge/, contents)`.\npub(super) static FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("write to string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded_knowledge.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
