//! Key layout of the single sled tree that holds the log.
//!
//! | prefix | key                                   | value                      |
//! |--------|---------------------------------------|----------------------------|
//! | `L`    | first position of a block (u64 BE)    | block of consecutive records (the newest ones: older blocks move to `archive.rs`'s segments) |
//! | `S`    | (before the stream index moved to memory: stream id, `0x00`, version → position; removed at open) | |
//! | `I`    | idempotency key                       | digest, first/last position, stream version |
//!
//! Big-endian integers make sled's byte order the numeric order, so a
//! stream or the log is read with one range scan.

pub(crate) const LOG: u8 = b'L';
pub(crate) const STREAM: u8 = b'S';
pub(crate) const IDEMPOTENCY: u8 = b'I';

pub(crate) fn log_key(position: u64) -> [u8; 9] {
    let mut key = [LOG; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

pub(crate) fn idempotency_key(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(IDEMPOTENCY);
    k.extend_from_slice(key.as_bytes());
    k
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}
