//! Engine tests: threat.
