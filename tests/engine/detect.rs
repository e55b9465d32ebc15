//! Engine tests: detect.
