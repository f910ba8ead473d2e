//! The `watchfire` command-line binary.

fn main() {}
