//! The time the filter spends on an exchange, from the host's clock: summed over the callbacks
//! of each half and recorded once, when the exchange ends.

use super::host;
use super::metrics::Metrics;

/// Which half of the exchange a callback works on.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    Request,
    Reply,
}

/// Host time this exchange's callbacks spent working, per phase, in nanoseconds.
#[derive(Debug, Default)]
pub struct Spent {
    request_ns: u64,
    reply_ns: u64,
}

/// When a callback started, if the host told.
pub struct Started(Option<u64>);

impl Started {
    pub fn now() -> Started {
        Started(host::now_nanos().ok())
    }
}

impl Spent {
    /// Add the time since `started` to `phase`.
    pub fn add(&mut self, phase: Phase, started: Started) {
        let (Some(started), Ok(ended)) = (started.0, host::now_nanos()) else { return };
        let ns = ended.saturating_sub(started);
        let total = match phase {
            Phase::Request => &mut self.request_ns,
            Phase::Reply => &mut self.reply_ns,
        };
        *total = total.saturating_add(ns);
    }

    /// The time so far, per half, in microseconds (request, reply).
    pub fn micros(&self) -> (u64, u64) {
        (self.request_ns / 1_000, self.reply_ns / 1_000)
    }

    /// Record an inspected request's time, and its reply's when the filter looked at the reply
    /// (not for our own local replies), in microseconds.
    pub fn record(&self, metrics: &Metrics, reply_seen: bool) {
        metrics.request_processing_us.record(self.request_ns / 1_000);
        if reply_seen {
            metrics.reply_processing_us.record(self.reply_ns / 1_000);
        }
    }
}
