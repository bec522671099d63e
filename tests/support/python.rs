//! The Python the example and reference subscribers run with, and the module of the proto.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::checker::manifest;

/// The venv `scripts/install-nats-server --python-libs` makes, or `$EXAMPLE_PYTHON` (not
/// `PAGEWIRE_*`: the service reads every such variable as a settings key), checked to import
/// `modules` (comma-separated). Missing dependencies fail the test with the command that
/// installs them: `needs` says what needs which libraries, `what` names them in the failure.
pub fn python(modules: &str, needs: &str, what: &str) -> PathBuf {
    let python = std::env::var_os("EXAMPLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest(".tools/venv/bin/python"));
    let fix = format!(
        "\n\n{needs}. Install them with\n  scripts/install-nats-server --python-libs\n\
         (into .tools/venv), or point EXAMPLE_PYTHON at a python that has them.\n"
    );
    let check = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output();
    match check {
        Ok(out) if out.status.success() => python,
        Ok(out) => panic!(
            "{} cannot import {what}:\n{}{fix}",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("cannot run {}: {e}{fix}", python.display()),
    }
}

/// Generates the Python module of the proto into a temporary folder, with exactly the README's
/// generate command.
pub fn python_module(python: &Path) -> tempfile::TempDir {
    let gen = tempfile::tempdir().expect("temp dir");
    let out = Command::new(python)
        .current_dir(manifest(""))
        .args(["-m", "grpc_tools.protoc", "-I", "proto", "--python_out"])
        .arg(gen.path())
        .arg("proto/pagewire/v1/pagewire.proto")
        .output()
        .expect("run protoc");
    assert!(out.status.success(), "protoc:\n{}", text(&out));
    gen
}

/// A finished command's exit code, stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
