//! Engine tests: stream.
