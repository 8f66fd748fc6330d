//! Audit postings: the compact entries of the audit indexes. Each is a log
//! position and the org unit concerned; everything else (time, actor, kind,
//! stream) is read from the log itself when the trail is listed.

/// Appends one posting: position (u64 BE), org unit length (u8), org unit.
pub(crate) fn push_posting(buffer: &mut Vec<u8>, position: u64, org: Option<&str>) {
    buffer.extend_from_slice(&position.to_be_bytes());
    let org = org.unwrap_or("");
    let len = org.len().min(usize::from(u8::MAX));
    buffer.push(len as u8);
    buffer.extend_from_slice(&org.as_bytes()[..len]);
}

/// Reads the postings of one bucket; `None` if the bytes are malformed.
pub(crate) fn postings(bytes: &[u8]) -> Option<Vec<(u64, Option<String>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let position = u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        let len = usize::from(*bytes.get(at + 8)?);
        let org = std::str::from_utf8(bytes.get(at + 9..at + 9 + len)?).ok()?;
        out.push((position, (!org.is_empty()).then(|| org.to_owned())));
        at += 9 + len;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_round_trip() {
        let mut buffer = Vec::new();
        push_posting(&mut buffer, 7, Some("LA.CAN-DUOC"));
        push_posting(&mut buffer, 9, None);
        assert_eq!(
            postings(&buffer),
            Some(vec![(7, Some("LA.CAN-DUOC".into())), (9, None)])
        );
        assert_eq!(postings(&buffer[..buffer.len() - 1]).map(|p| p.len()), None);
    }
}
