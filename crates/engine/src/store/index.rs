//! The index of stored sessions: (key hash, expiry) pairs in one shared-data key, so the periodic
//! sweep can find expired sessions without listing keys (the ABI has no way to).
//!
//! Encoding (version 1, little-endian): `u8 version, u32 count, { u64 hash, u64 expiry }*`.

use super::codec::{Malformed, Reader, Writer};

const VERSION: u8 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionIndex {
    pub sessions: Vec<(u64, u64)>,
}

impl SessionIndex {
    pub fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        if bytes.is_empty() {
            return Ok(SessionIndex::default());
        }
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(Malformed);
        }
        let count = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
        if count.checked_mul(16) != Some(r.remaining()) {
            return Err(Malformed);
        }
        let mut sessions = Vec::with_capacity(count);
        for _ in 0..count {
            sessions.push((r.u64()?, r.u64()?));
        }
        r.finish()?;
        Ok(SessionIndex { sessions })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(VERSION);
        w.u32(u32::try_from(self.sessions.len()).unwrap_or(0));
        for (hash, expiry) in &self.sessions {
            w.u64(*hash);
            w.u64(*expiry);
        }
        w.bytes
    }

    /// Record `hash` as expiring at `expiry`. When that would exceed `max_sessions`, the sessions
    /// expiring soonest are dropped and returned: the caller clears their records.
    pub fn upsert(&mut self, hash: u64, expiry: u64, max_sessions: usize) -> Vec<u64> {
        if let Some((_, e)) = self.sessions.iter_mut().find(|(h, _)| *h == hash) {
            *e = (*e).max(expiry);
            return Vec::new();
        }
        let mut evicted = Vec::new();
        while !self.sessions.is_empty() && self.sessions.len() >= max_sessions {
            let oldest = self.sessions.iter().enumerate().min_by_key(|(_, (_, e))| *e).map(|(i, _)| i).unwrap_or(0);
            evicted.push(self.sessions.swap_remove(oldest).0);
        }
        if max_sessions > 0 {
            self.sessions.push((hash, expiry));
        }
        evicted
    }
}
