//! The file transport: every message becomes an `.eml` file in a folder, which a mail program
//! opens as it would the real message. For a first run and for demos, where there is no SMTP
//! server to talk to.

use std::path::PathBuf;

use super::{MailError, Mailer, OutgoingMessage, message::to_lettre};

/// Writes messages as `.eml` files.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    /// A transport writing into `dir` (created when needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), MailError> {
        let bytes = to_lettre(message)?.formatted();
        let stem: String = message
            .message_id
            .trim_matches(|c| c == '<' || c == '>')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = self.dir.clone();
        // Written under a temporary name and renamed, so a reader never sees half a message;
        // the same Message-ID gives the same file name, so a repeated delivery replaces it.
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            // The messages hold working personal links: the owner's only.
            crate::private::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{stem}.{:08x}.tmp", rand::random::<u32>()));
            let mut file = crate::private::create_new(&tmp)?;
            file.write_all(&bytes)?;
            // On disk before it counts as sent: a power cut must not leave a "sent" message
            // whose file is empty.
            file.sync_all()?;
            std::fs::rename(&tmp, dir.join(format!("{stem}.eml")))?;
            std::fs::File::open(&dir)?.sync_all()
        })
        .await
        .map_err(|e| MailError::Transient(e.to_string()))?
        .map_err(|e| MailError::Transient(format!("cannot write into the mail folder: {e}")))
    }
}
