//! A real SMTP server for the tests: Python's aiosmtpd (PyPI), run as a subprocess on
//! 127.0.0.1 and a free port, keeping what it receives in a folder. The Python comes from
//! `ISO20K_TEST_PYTHON` (`.ci/run` points it at a venv with aiosmtpd), else `python3`.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The running server; stopped when dropped.
pub struct Smtp {
    child: Child,
    /// Where the messages land, one JSON file each.
    pub folder: tempfile::TempDir,
    /// The port it listens on.
    pub port: u16,
}

/// The Python to run, and whether it was asked for (then it must work).
fn python() -> (String, bool) {
    match std::env::var("ISO20K_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    {
        Some(p) => (p, true),
        None => ("python3".to_owned(), false),
    }
}

impl Smtp {
    /// Starts the server. Without aiosmtpd the e-mail test is skipped, saying so on standard
    /// error, as the PostgreSQL half is without its database: the README's test command needs
    /// only Rust. When `ISO20K_TEST_PYTHON` names a Python (CI does), it must have aiosmtpd.
    pub fn start() -> Option<Smtp> {
        let (python, asked) = python();
        let probe = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .output();
        match probe {
            Ok(o) if o.status.success() => {}
            _ if asked => panic!(
                "the e-mail tests need Python's aiosmtpd, a real SMTP server, and `{python}` \
                 (ISO20K_TEST_PYTHON) cannot import it: install it with `{python} -m pip \
                 install aiosmtpd`"
            ),
            _ => {
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!(
                        "iso20k: the e-mail test skipped: `{python}` has no aiosmtpd; install it \
                         (`{python} -m pip install aiosmtpd`) or set ISO20K_TEST_PYTHON, as \
                         .ci/run does\n"
                    )
                    .as_bytes(),
                );
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let folder = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(folder.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Some(Smtp {
            child,
            folder,
            port,
        })
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, oldest first.
    pub fn received(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
