//! [`Subscription`]: catch up from a position, then follow live.

use crate::error::StoreError;
use crate::log::{Head, Log};
use crate::record::RecordedEvent;
use std::collections::VecDeque;
use tokio::sync::watch;

const PAGE: usize = 512;

/// Follows the log. Reads pages up to the durable head; when caught up,
/// waits for the head to move. Because positions are gap-free and it always
/// reads from the position after the last one it returned, the switch from
/// catching up to live can neither skip nor repeat an event.
///
/// It never holds up writers: the head is published through a watch channel
/// that overwrites, so a slow subscriber only falls behind.
pub struct Subscription {
    log: Log,
    next: u64,
    buffer: VecDeque<RecordedEvent>,
    head: watch::Receiver<Head>,
}

impl Subscription {
    /// Follows `log` from `from` (inclusive; 0 and 1 both mean the start):
    /// first the events already durable, then new ones as they become
    /// durable, with no gap and no duplicate at the switch.
    pub fn new(log: Log, from: u64) -> Self {
        let head = log.watch_head();
        Subscription {
            log,
            next: from.max(1),
            buffer: VecDeque::new(),
            head,
        }
    }

    /// The position of the next event this subscription will return.
    pub fn next_position(&self) -> u64 {
        self.next
    }

    /// The next event; waits while there is none. Errors when the store
    /// closes or a record does not read back.
    pub async fn next(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.next = event.position + 1;
                return Ok(event);
            }
            let durable = self.head.borrow_and_update().position;
            if durable >= self.next {
                self.buffer.extend(self.log.read_all(self.next, PAGE)?);
                continue;
            }
            self.head.changed().await.map_err(|_| StoreError::Closed)?;
        }
    }

    /// Waits for at least one event, then returns every event durable
    /// right now after it, up to `max`.
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut out = vec![self.next().await?];
        while out.len() < max {
            if let Some(event) = self.buffer.pop_front() {
                self.next = event.position + 1;
                out.push(event);
                continue;
            }
            let durable = self.head.borrow().position;
            if durable < self.next {
                break;
            }
            self.buffer
                .extend(self.log.read_all(self.next, PAGE.min(max - out.len()))?);
            if self.buffer.is_empty() {
                break;
            }
        }
        Ok(out)
    }
}
