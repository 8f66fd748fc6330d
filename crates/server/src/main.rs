//! chitieu server.
fn main() {}
