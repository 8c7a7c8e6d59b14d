//! The change feed's moving parts: how a committed event gets its position,
//! and how the rest of the process learns that the feed advanced.
//!
//! - On SQLite writers are serialised, so an event gets its position (its
//!   `change_events.id`) as it is written.
//! - On PostgreSQL a write commits its event into `change_event_inbox`
//!   without any global lock; the [`sequencer`] moves committed inbox rows
//!   into `change_events`, numbering them after the last one. One replica at
//!   a time runs it (a session advisory lock elects it), and every pass also
//!   holds a transaction advisory lock, so two passes can never interleave
//!   even while leadership changes hands.
//!
//! [`Signals`] connects the pieces inside one process: writers `nudge` after
//! they commit, and readers (live subscriptions, webhook workers) watch the
//! feed's `head`.

pub mod sequencer;
pub mod tasks;

use std::sync::Arc;

use prometheus::{Histogram, HistogramOpts, IntGauge};
use tokio::sync::{Notify, watch};

/// In-process signals of the feed.
#[derive(Debug)]
pub struct Signals {
    /// Raised after a write that recorded events commits.
    pub committed: Notify,
    /// The highest feed position this process knows to be readable.
    pub head: watch::Sender<i64>,
    /// Seconds from an event's write to its numbering (PostgreSQL).
    pub delay: Histogram,
    /// 1 while this process sequences the feed (PostgreSQL).
    pub leader: IntGauge,
}

impl Signals {
    /// New signals, with the head unknown (0) until the first read.
    pub fn new() -> Arc<Signals> {
        let delay = Histogram::with_opts(
            HistogramOpts::new(
                "feed_sequencing_delay_seconds",
                "Seconds from an event's write to its position in the change feed",
            )
            .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
        )
        .expect("static histogram options are valid");
        let leader = IntGauge::new("feed_sequencer_leader", "1 while this process sequences the change feed")
            .expect("static gauge options are valid");
        Arc::new(Signals { committed: Notify::new(), head: watch::channel(0).0, delay, leader })
    }

    /// A write that recorded events has committed.
    pub fn nudge(&self) {
        self.committed.notify_one();
    }

    /// The feed is readable up to `position`.
    pub fn advanced(&self, position: i64) {
        self.head.send_if_modified(|head| {
            if position > *head {
                *head = position;
                true
            } else {
                false
            }
        });
    }

    /// A receiver of head changes.
    pub fn watch(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }
}
