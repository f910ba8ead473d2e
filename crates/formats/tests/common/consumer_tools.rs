//! What the tests that hand written files to their real consumers share: running a program, its
//! output as text, and the `nft -c -f` check. Included by `writers_consumers.rs` and by the
//! alert snippets' test in `warn` (`#[path]`).

use std::path::Path;
use std::process::{Command, Output};

/// Runs `command` and returns its output; panics when it cannot start.
pub fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"))
}

/// Returns a command's standard output and error, for messages.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Checks a script with `nft -c -f`, which evaluates it against the kernel without applying it.
///
/// Without CAP_NET_ADMIN (an unprivileged container) nft cannot open its netlink cache; the check
/// then runs in a new user and network namespace (`unshare -rn`), where it has that capability.
/// Only when that is not allowed either does it accept the one error nft prints after a successful
/// parse, "cache initialization failed: Operation not permitted", and say it checked syntax only.
pub fn check_nft(nft: &Path, script: &Path) {
    let output = run(Command::new(nft).arg("-c").arg("-f").arg(script));
    if output.status.success() {
        eprintln!("nft -c -f {}: evaluated against the kernel", script.display());
        return;
    }
    let error = text(&output);
    let no_permission =
        error.trim() == "netlink: Error: cache initialization failed: Operation not permitted";
    assert!(no_permission, "nft rejects {}:\n{error}", script.display());
    let in_namespace = run(Command::new("unshare")
        .args(["--user", "--map-root-user", "--net"])
        .arg(nft)
        .arg("-c")
        .arg("-f")
        .arg(script));
    if in_namespace.status.success() {
        eprintln!(
            "nft -c -f {}: evaluated against the kernel in a user and network namespace",
            script.display()
        );
        return;
    }
    let namespace_error = text(&in_namespace);
    assert!(
        namespace_error.contains("Operation not permitted") && !namespace_error.contains(".nft:"),
        "nft rejects {} in a namespace:\n{namespace_error}",
        script.display()
    );
    eprintln!(
        "nft -c -f {}: FELL BACK TO SYNTAX CHECKING: nft parsed the script but, without CAP_NET_ADMIN or user namespaces, could not evaluate it",
        script.display()
    );
}
