//! Files and folders that only Kansli's own user may read: the database, the secret personal
//! links are made from, and the emails the file transport writes (they hold working links).
//! Created 0600 and 0700 on Unix, whatever the process's umask.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` and the folders above it that are missing, each readable by the owner only;
/// folders that exist keep their modes.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a file readable and writable by the owner only.
fn owner_only() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` new (it must not exist), for the owner only.
pub fn create_new(path: &Path) -> io::Result<File> {
    owner_only().write(true).create_new(true).open(path)
}

/// Makes sure `path` exists, creating it empty for the owner only if it does not; an existing
/// file is left as it is (SQLite's WAL and shared-memory files take its mode).
pub fn touch(path: &Path) -> io::Result<()> {
    match owner_only().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn what_is_created_is_the_owners_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("var/mail");
        create_dir_all(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("var")), 0o700);
        let file = dir.join("a.eml");
        create_new(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        let db = root.path().join("kansli.db");
        touch(&db).unwrap();
        touch(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }
}
