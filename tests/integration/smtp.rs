//! A real SMTP server on loopback for the mail tests: aiosmtpd, run by
//! `tests/support/smtp_sink.py`, writing each message it accepts as `.eml` and a JSON summary
//! decoded by Python's email package. When the machine's python3 lacks aiosmtpd, it is
//! installed once from PyPI into a virtual environment under `target/`, so `cargo test` works
//! on a fresh machine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A python3 that has aiosmtpd.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let has = |python: &Path| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        // The one scripts/test names (a virtual environment it made), else the system's.
        let python = std::env::var_os("TEST_PYTHON")
            .map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        assert!(
            has(&python),
            "the SMTP tests need aiosmtpd for {}; run the tests with scripts/test, which installs it",
            python.display()
        );
        python
    })
}

/// What the server received, decoded independently of lettre.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attachments: Vec<ReceivedAttachment>,
}

#[derive(Debug, serde::Deserialize)]
pub struct ReceivedAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// Where the sink wrote the decoded content.
    pub path: PathBuf,
}

impl ReceivedAttachment {
    /// The attachment as the recipient gets it.
    pub fn content(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
}

/// A running server; stopped when dropped.
pub struct SmtpSink {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    pub fn start() -> Self {
        let mut sink = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        sink.resume();
        sink
    }

    /// A server that is not running yet, on a port of its own.
    pub fn stopped() -> Self {
        Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts (again) on the same port and folder.
    pub fn resume(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs tests/support/smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start; run the tests with scripts/test, which installs aiosmtpd"
        );
        self.child = Some(child);
    }

    /// Stops the server: connections are refused until [`SmtpSink::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The messages received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let mut m: Received =
                    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                // SMTP carries CRLF line ends; compare text as written.
                m.text = m.text.map(|t| t.replace("\r\n", "\n"));
                m.html = m.html.map(|t| t.replace("\r\n", "\n"));
                m
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
