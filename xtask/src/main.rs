//! Project automation: `cargo xtask test` and friends.

fn main() {}
