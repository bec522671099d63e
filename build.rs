//! Compiles `proto/` with protox (no system `protoc`), generates prost types and
//! pbjson serde impls (canonical proto3 JSON) into `OUT_DIR`; embeds the git commit as
//! `BUILD_GIT_COMMIT` for the `pagewire_build_info` metric (not `PAGEWIRE_*`: cargo also sets
//! it when running tests, and the settings read every `PAGEWIRE_*` variable as a key).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    embed_git_commit();
    let files = [
        "proto/pagewire/v1/pagewire.proto",
        "proto/pagewire/v1/stitch.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_path = out.join("pagewire_descriptor.bin");
    std::fs::write(
        &descriptor_path,
        prost::Message::encode_to_vec(&descriptors),
    )?;

    prost_build::Config::new()
        .file_descriptor_set_path(&descriptor_path)
        .skip_protoc_run()
        .bytes(["."])
        .btree_map(["."])
        .compile_protos(&files, &["proto"])?;

    pbjson_build::Builder::new()
        .register_descriptors(&std::fs::read(&descriptor_path)?)?
        .btree_map(["."])
        .build(&[".pagewire.v1"])?;
    Ok(())
}

/// `GIT_COMMIT` from the environment (for builds without `.git`, e.g. a Docker build arg), else
/// `git rev-parse --short=12 HEAD`, else `unknown`. Never fails the build.
fn embed_git_commit() {
    println!("cargo:rerun-if-env-changed=GIT_COMMIT");
    let commit = std::env::var("GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_owned())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=BUILD_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself (checkout), the branch it names (commit) and
    // packed-refs. Only existing files are named: a missing one would rerun this every build.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        if Path::new(&path).is_file() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// Trimmed stdout of a successful `git` command.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}
